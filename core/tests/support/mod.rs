//! What every repository suite shares: one macro that instantiates each case for SQLite,
//! PostgreSQL and MySQL/MariaDB, and a fixture that gives each test a database of its own.
//!
//! Servers: `GLINT_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and `GLINT_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). These are admin
//! URLs: each test creates `glint_t_<random>` there and drops it afterwards. A missing server
//! fails the test; it is never skipped.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use glint_core::db::{Backend, Database};
use sqlx::{AssertSqlSafe, Connection, Executor};
use uuid::Uuid;

/// `db_test_suite!(case_a, case_b, ...)`: one `#[tokio::test]` per case and backend, calling
/// `cases::<case>(db)` through `run`.
#[macro_export]
macro_rules! db_test_suite {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        db_test_suite!(@backend sqlite, Sqlite, [$($(#[$attr])* $case),*]);
        db_test_suite!(@backend postgres, Postgres, [$($(#[$attr])* $case),*]);
        db_test_suite!(@backend mysql, MySql, [$($(#[$attr])* $case),*]);
    };
    (@backend $module:ident, $backend:ident, [$($(#[$attr:meta])* $case:ident),*]) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                $(#[$attr])*
                async fn $case() {
                    super::run(glint_core::db::Backend::$backend, super::cases::$case).await;
                }
            )*
        }
    };
}

/// Runs one case against a fresh database of `backend` and removes the
/// database afterwards, also when the case fails.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: Future<Output = ()>,
{
    let fixture = Fixture::create(backend).await;
    let db = Database::connect(&fixture.url)
        .await
        .unwrap_or_else(|err| panic!("connecting to the test database {}: {err}", fixture.url));
    assert_eq!(db.backend(), backend);
    let outcome = AssertUnwindSafe(case(db.clone())).catch_unwind().await;
    db.close().await;
    fixture.drop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

struct Fixture {
    url: String,
    server: Option<Server>,
    // Keeps the SQLite directory until the fixture goes.
    _dir: Option<tempfile::TempDir>,
}

struct Server {
    admin_url: String,
    name: String,
    backend: Backend,
}

impl Fixture {
    async fn create(backend: Backend) -> Fixture {
        let (env, default) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}/glint.db?mode=rwc", dir.path().display());
                return Fixture {
                    url,
                    server: None,
                    _dir: Some(dir),
                };
            }
            Backend::Postgres => (
                "GLINT_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            Backend::MySql => ("GLINT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
        };
        let admin_url = std::env::var(env).unwrap_or_else(|_| default.to_owned());
        let name = format!("glint_t_{}", &Uuid::new_v4().simple().to_string()[..12]);
        let mut admin = admin_connection(&admin_url, env).await;
        admin
            .execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|err| panic!("creating test database {name} at {admin_url}: {err}"));
        admin.close().await.ok();
        Fixture {
            url: replace_database(&admin_url, &name),
            server: Some(Server {
                admin_url,
                name,
                backend,
            }),
            _dir: None,
        }
    }

    async fn drop(self) {
        let Some(server) = self.server else { return };
        let statement = match server.backend {
            // Connections left behind by a failed case must not keep it alive.
            Backend::Postgres => format!("DROP DATABASE {} WITH (FORCE)", server.name),
            _ => format!("DROP DATABASE {}", server.name),
        };
        let mut admin = admin_connection(&server.admin_url, "admin URL").await;
        admin
            .execute(AssertSqlSafe(statement))
            .await
            .unwrap_or_else(|err| panic!("dropping test database {}: {err}", server.name));
        admin.close().await.ok();
    }
}

async fn admin_connection(url: &str, env: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "database server at {url} is unreachable ({err}). The repository suite needs it: \
             start it, or point {env} at one."
            )
        })
}

/// `url` with its database (the path) replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with ://");
    let (authority, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let host = authority
        .split_once('/')
        .map_or(authority, |(host, _)| host);
    match query {
        Some(query) => format!("{scheme}://{host}/{name}?{query}"),
        None => format!("{scheme}://{host}/{name}"),
    }
}
