//! The schema's version: what `glint db check` reports and `glint db upgrade`
//! (and every `serve` at start-up) applies. A database migrated by a newer
//! release is refused rather than used half-understood.

use sqlx::migrate::{Migrate, Migrator};

use super::{Backend, Database, DbError, MYSQL_MIGRATOR, POSTGRES_MIGRATOR, SQLITE_MIGRATOR};

/// Where the database's schema stands against the migrations of this binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations this binary knows, oldest first.
    pub known: Vec<i64>,
    /// Migrations the database has, oldest first.
    pub applied: Vec<i64>,
}

impl SchemaStatus {
    /// Known migrations the database lacks: `glint db upgrade` applies them.
    pub fn pending(&self) -> Vec<i64> {
        self.known
            .iter()
            .filter(|v| !self.applied.contains(v))
            .copied()
            .collect()
    }

    /// Applied migrations this binary does not know: a newer release wrote them.
    pub fn unknown(&self) -> Vec<i64> {
        self.applied
            .iter()
            .filter(|v| !self.known.contains(v))
            .copied()
            .collect()
    }
}

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
        Backend::MySql => &MYSQL_MIGRATOR,
    }
}

impl Database {
    /// The schema's migrations against this binary's.
    pub async fn schema_status(&self) -> Result<SchemaStatus, DbError> {
        let migrator = migrator(self.backend);
        let mut conn = self.writer.acquire().await?;
        conn.ensure_migrations_table(&migrator.table_name).await?;
        let applied = conn
            .list_applied_migrations(&migrator.table_name)
            .await?
            .into_iter()
            .map(|m| m.version)
            .collect();
        Ok(SchemaStatus {
            known: migrator.iter().map(|m| m.version).collect(),
            applied,
        })
    }

    /// Applies the pending migrations; refuses a schema newer than this binary.
    pub async fn upgrade(&self) -> Result<(), DbError> {
        let status = self.schema_status().await?;
        if let Some(&newest) = status.unknown().last() {
            return Err(DbError::SchemaTooNew {
                database: newest,
                binary: status.known.last().copied().unwrap_or(0),
            });
        }
        migrator(self.backend).run(&self.writer).await?;
        Ok(())
    }

    /// One round trip to the database.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Each pool's name, open connections and idle ones among them.
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, usize)> {
        let stats = |pool: &sqlx::AnyPool| (pool.size(), pool.num_idle());
        let (size, idle) = stats(&self.writer);
        let mut out = vec![("writer", size, idle)];
        if self.backend == Backend::Sqlite {
            let (size, idle) = stats(&self.reader);
            out.push(("reader", size, idle));
        }
        out
    }
}
