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
}

/// True when the error is a unique-key violation.
pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation)
}
