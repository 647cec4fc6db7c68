//! Databases of their own on the test PostgreSQL (127.0.0.1:5432, trust), for
//! tests that run several `glint serve` on one database.

use std::process::Command;

/// A database created for one test and dropped (with its connections) at the end.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    /// A new empty database named `<prefix>_<random>`.
    pub fn create(prefix: &str) -> PgDatabase {
        let name = format!(
            "{prefix}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        psql(&format!("CREATE DATABASE {name}"));
        PgDatabase {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Runs one SQL statement as `postgres`, failing the test if it fails.
pub fn psql(statement: &str) {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
        ])
        .output()
        .expect("psql (PostgreSQL client) is needed by this test");
    assert!(out.status.success(), "psql {statement}: {out:?}");
}
