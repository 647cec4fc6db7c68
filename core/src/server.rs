//! Start-up: open the database and stores, then serve until told to stop.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use poem::Server;
use poem::listener::{Listener, TcpListener};

use crate::app::App;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::Database;
use crate::domain::protections::PropertyProtections;
use crate::store::StoreRegistry;

mod head_deadline;

/// Open everything the configuration names.
pub async fn build(config: Config) -> anyhow::Result<Arc<App>> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        anyhow::anyhow!("cannot create data_dir {}: {e}", config.data_dir.display())
    })?;
    let auth = Authenticator::new(&config.auth)?;
    let policy = crate::policy::Policy::load(config.policy.file.as_deref())?;
    let db = Database::connect(&config.database_url()).await?;
    let stores = StoreRegistry::open(&config);
    if stores.get(stores.default_id()).is_none() {
        tracing::error!(
            store = stores.default_id(),
            "the default store is not available: uploads will fail until it is"
        );
    }
    let metadef_providers = crate::metadef_providers::MetadefProviders::open(&config).await;
    metadef_providers.warn_shadowed(&db).await;
    let protections = match &config.api.property_protection_file {
        Some(file) => {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!("cannot read property protection file {}", file.display())
            })?;
            PropertyProtections::parse(&text)
                .with_context(|| format!("property protection file {}", file.display()))?
        }
        None => PropertyProtections::none(),
    };
    let app = App::with_metadef_providers(
        config,
        db,
        stores,
        auth,
        policy,
        metadef_providers,
        protections,
    );
    crate::cache::worker::start(&app.cache, app.stores.clone());
    Ok(app)
}

/// Time aborted uploads get, after the shutdown grace, to put their images
/// back to `queued` and answer before their connections are cut.
const ABORT_CLEANUP: Duration = Duration::from_secs(5);

/// Serve the API until Ctrl-C or SIGTERM: then stop accepting, let requests
/// in progress finish for `api.shutdown_grace_secs`, and abort the uploads
/// still streaming so that they clean up rather than being cut.
pub async fn serve(app: Arc<App>) -> anyhow::Result<()> {
    let bind = app.config.bind;
    if let Err(e) = crate::jobs::recovery::at_startup(&app).await {
        tracing::error!(error = %e, "could not recover the uploads of this node's previous process");
    }
    let api = &app.config.api;
    let silent = Duration::from_secs(api.header_timeout_secs.max(1));
    let acceptor = head_deadline::HeadDeadlineAcceptor {
        inner: TcpListener::bind(bind).into_acceptor().await?,
        limit: silent,
    };
    tracing::info!(%bind, "glint listening");
    let jobs = crate::jobs::start(&app);
    let jobs_grace = Duration::from_secs(app.config.jobs.shutdown_grace_secs);
    let grace = Duration::from_secs(api.shutdown_grace_secs);
    ignore_hangups();
    let signal = async move {
        shutdown_signal().await;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            tracing::warn!("shutdown grace over: aborting the uploads still in progress");
            crate::service::inflight::abort_all();
        });
    };
    let served = Server::new_with_acceptor(acceptor)
        .idle_timeout(silent)
        .run_with_graceful_shutdown(
            crate::api::endpoint(app),
            signal,
            Some(grace + ABORT_CLEANUP),
        )
        .await;
    jobs.shutdown(jobs_grace).await;
    served?;
    Ok(())
}

/// SIGHUP conventionally asks a daemon to reload; nothing here can be
/// reloaded safely yet, so it is logged rather than left to kill the server.
fn ignore_hangups() {
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hup) => {
            tokio::spawn(async move {
                while hup.recv().await.is_some() {
                    tracing::info!("SIGHUP received: nothing to reload; still serving");
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "could not install the SIGHUP handler"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
