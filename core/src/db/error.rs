#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The image (or member) does not exist or is deleted.
    #[error("not found")]
    NotFound,
    /// The id is taken, possibly by a deleted image (ids are never reused).
    #[error("already exists")]
    Duplicate,
    /// The list marker does not exist or the caller may not see it.
    #[error("marker not found")]
    MarkerNotFound,
    /// A compare-and-set update found another status than it expected.
    #[error("image status changed concurrently")]
    Conflict,
    /// A stored value cannot be read back (edited by hand, or by a newer version).
    #[error("invalid stored value for {column}: {value:?}")]
    InvalidRow { column: &'static str, value: String },
    /// Holds the URL's scheme only: the rest may carry a password.
    #[error("unsupported database URL scheme {0:?}: expected sqlite, postgres, mysql or mariadb")]
    UnsupportedUrl(String),
    /// The first connection failed: names the server, never the password.
    #[error("cannot connect to the database at {host}: {source}")]
    Unreachable { host: String, source: sqlx::Error },
    /// The database was migrated by a newer release than this binary.
    #[error(
        "the database schema (migration {database}) is newer than this glint knows (up to {binary}): \
         run the glint release that upgraded it, or a newer one"
    )]
    SchemaTooNew { database: i64, binary: i64 },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Backend(#[from] sqlx::Error),
    /// The commit failed, or its answer was lost: the write may have taken
    /// effect or not.
    #[error("database error at commit: {0}")]
    CommitUnknown(sqlx::Error),
}

/// True when the error is a unique-key violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// True when the transaction (or read) failed before its commit in a way
/// that running it again from the start may cure, and nothing was written:
/// - the server rolled it back to resolve a conflict with another one: a
///   deadlock or lock wait timeout (MySQL/MariaDB 1213, 1205), a Galera
///   certification failure (reported as 1213), a PostgreSQL serialization
///   failure or deadlock (SQLSTATE 40001, 40P01);
/// - the server it reached cannot answer now: a Galera node not ready for
///   queries (1047), a server shutting down (1053) or a killed connection
///   (1927), or a connection lost (I/O): a new connection, through a load
///   balancer, reaches a server that can.
///
/// A failed commit is [`DbError::CommitUnknown`], never retried.
pub(crate) fn is_retryable(err: &sqlx::Error) -> bool {
    if is_conflict(err) || matches!(err, sqlx::Error::Io(_)) {
        return true;
    }
    mysql_number(err).is_some_and(|n| matches!(n, 1047 | 1053 | 1927))
}

/// True when the server rolled the transaction back to resolve a conflict
/// (see [`is_retryable`]); at a commit too, this says nothing was written.
pub(crate) fn is_conflict(err: &sqlx::Error) -> bool {
    if let Some(n) = mysql_number(err) {
        return matches!(n, 1213 | 1205);
    }
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

fn mysql_number(err: &sqlx::Error) -> Option<u16> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .map(|my| my.number())
}
