//! Start-up: open the database and stores, then serve until told to stop.

use std::sync::Arc;

use anyhow::Context;

use poem::Server;
use poem::listener::TcpListener;

use crate::app::App;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::Database;
use crate::domain::protections::PropertyProtections;
use crate::store::StoreRegistry;

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

/// Serve the API until Ctrl-C or SIGTERM.
pub async fn serve(app: Arc<App>) -> anyhow::Result<()> {
    let bind = app.config.bind;
    let listener = TcpListener::bind(bind);
    tracing::info!(%bind, "glint listening");
    let jobs = crate::jobs::start(&app);
    let grace = std::time::Duration::from_secs(app.config.jobs.shutdown_grace_secs);
    let served = Server::new(listener)
        .run_with_graceful_shutdown(
            crate::api::endpoint(app),
            shutdown_signal(),
            Some(std::time::Duration::from_secs(10)),
        )
        .await;
    jobs.shutdown(grace).await;
    served?;
    Ok(())
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
