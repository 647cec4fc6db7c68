//! Databases of their own on the test MariaDB (127.0.0.1:3306, root without a
//! password), for tests that run `glint serve` on MariaDB.

use std::process::Command;

/// A database created for one test and dropped at the end.
pub struct MariaDatabase {
    pub name: String,
    pub url: String,
}

impl MariaDatabase {
    /// A new empty database named `<prefix>_<random>`.
    pub fn create(prefix: &str) -> MariaDatabase {
        let name = format!(
            "{prefix}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        mariadb(&format!("CREATE DATABASE {name}"));
        MariaDatabase {
            url: format!("mysql://root@127.0.0.1:3306/{name}"),
            name,
        }
    }
}

impl Drop for MariaDatabase {
    fn drop(&mut self) {
        mariadb(&format!("DROP DATABASE IF EXISTS {}", self.name));
    }
}

/// Runs one SQL statement as `root`, failing the test if it fails.
pub fn mariadb(statement: &str) {
    let out = Command::new("mariadb")
        .args(["-uroot", "-h127.0.0.1", "-P3306", "-e", statement])
        .output()
        .expect("mariadb (MariaDB client) is needed by this test");
    assert!(out.status.success(), "mariadb {statement}: {out:?}");
}
