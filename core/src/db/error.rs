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

impl DbError {
    /// True when the database cannot answer now but may shortly: the server is down, shutting
    /// down or restarting, the connection broke, every connection is busy, or (SQLite) another
    /// process held the file's lock past the busy timeout. A retry later can succeed, so the API
    /// answers 503 with `Retry-After` rather than 500.
    ///
    /// A commit whose answer was lost that way is unavailable too: the caller cannot know whether
    /// the write took effect, and must read it back (or retry) once the database answers.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Backend(e)
            | DbError::Unreachable { source: e, .. }
            | DbError::CommitUnknown(e) => is_unavailable_error(e),
            _ => false,
        }
    }
}

/// PostgreSQL SQLSTATEs of a server that cannot serve now: class 08 (connection exception),
/// a serialization failure or deadlock (40001, 40P01), 53300 (too many connections),
/// 57P01..57P03 (shutting down, crashed, starting up).
fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || matches!(
            code,
            "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
        )
}

/// MySQL/MariaDB error numbers of a server that cannot serve now: too many connections (1040),
/// shutdown in progress (1053), aborted or killed connection (1152, 1927), a client
/// disconnected by the server (4031), a lock wait timeout (1205) and a deadlock (1213).
const MYSQL_UNAVAILABLE: &[u16] = &[1040, 1053, 1152, 1205, 1213, 1927, 4031];

/// SQLite's primary result codes for a lock another connection holds: SQLITE_BUSY, SQLITE_LOCKED.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

pub(crate) fn is_unavailable_error(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                return MYSQL_UNAVAILABLE.contains(&my.number());
            }
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                let code = db.code().and_then(|c| c.parse::<i64>().ok());
                return code.is_some_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED));
            }
            db.code().is_some_and(|code| is_unavailable_sqlstate(&code))
        }
        _ => false,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_and_timeouts_are_unavailable() {
        for e in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into()),
            sqlx::Error::Io(std::io::ErrorKind::UnexpectedEof.into()),
        ] {
            assert!(DbError::Backend(e).is_unavailable());
        }
        assert!(!DbError::Backend(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!DbError::NotFound.is_unavailable());
        assert!(!DbError::Conflict.is_unavailable());
    }

    #[test]
    fn a_commit_cut_by_a_lost_connection_is_unavailable() {
        let cut = sqlx::Error::Io(std::io::ErrorKind::UnexpectedEof.into());
        assert!(DbError::CommitUnknown(cut).is_unavailable());
        assert!(!DbError::CommitUnknown(sqlx::Error::RowNotFound).is_unavailable());
    }

    #[test]
    fn postgres_shutdown_and_connection_states_are_unavailable() {
        for code in ["57P01", "57P02", "57P03", "08006", "08001", "53300"] {
            assert!(is_unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "42P01", "22001"] {
            assert!(!is_unavailable_sqlstate(code), "{code}");
        }
    }
}
