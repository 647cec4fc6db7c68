//! Start-up: open the database and stores, then serve until told to stop.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use poem::listener::{Acceptor, AcceptorExt, BoxAcceptor, Listener, OpensslTlsConfig, TcpListener};
use poem::{EndpointExt, Response, Server};

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
    writable(&config.data_dir)?;
    let auth = Authenticator::new(&config.auth)?;
    let policy = crate::policy::Policy::load(config.policy.file.as_deref())?;
    let db = Database::connect_waiting(&config.database_url(), config.database_acquire_timeout())
        .await?;
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

/// Serve the API (and the metrics when configured) until Ctrl-C or SIGTERM:
/// then stop accepting, let requests in progress finish for
/// `api.shutdown_grace_secs`, and abort the uploads still streaming so that
/// they clean up rather than being cut.
pub async fn serve(app: Arc<App>) -> anyhow::Result<()> {
    if let Err(e) = crate::jobs::recovery::at_startup(&app).await {
        tracing::error!(error = %e, "could not recover the uploads of this node's previous process");
    }
    // Both listeners bind before anything else runs, so that a taken port or a
    // bad certificate stops the start with the address or file named.
    let silent = Duration::from_secs(app.config.api.header_timeout_secs.max(1));
    // The deadline wraps what the TLS layer decrypts, so it reads request bytes.
    let api = head_deadline::HeadDeadlineAcceptor {
        inner: api_acceptor(&app).await?,
        limit: silent,
    };
    let metrics = match app.config.metrics.bind {
        Some(bind) => Some(
            TcpListener::bind(bind)
                .into_acceptor()
                .await
                .with_context(|| format!("cannot listen for metrics on {bind}"))?,
        ),
        None => None,
    };
    for addr in api.local_addr() {
        let scheme = if app.config.tls.files().is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(bind = %addr, scheme, "glint listening");
    }
    let jobs = crate::jobs::start(&app);
    let jobs_grace = Duration::from_secs(app.config.jobs.shutdown_grace_secs);
    let grace = Duration::from_secs(app.config.api.shutdown_grace_secs);
    let drain = Duration::from_secs(app.config.health.drain_secs);
    ignore_hangups();
    let signal = async move {
        shutdown_signal().await;
        drain_before_shutdown(drain).await;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            tracing::warn!("shutdown grace over: aborting the uploads still in progress");
            crate::service::inflight::abort_all();
        });
    };
    if let Some(acceptor) = metrics {
        for addr in acceptor.local_addr() {
            tracing::info!(bind = %addr, "metrics at /metrics");
        }
        let scraped = app.clone();
        let endpoint = poem::endpoint::make(move |_req: poem::Request| {
            let app = scraped.clone();
            async move {
                let now = crate::service::health::snapshot(&app).await;
                Ok::<_, poem::Error>(
                    Response::builder()
                        .content_type(crate::metrics::CONTENT_TYPE)
                        .body(crate::metrics::encode(&now)),
                )
            }
        });
        let route = poem::Route::new()
            .at("/metrics", endpoint)
            .map_to_response();
        tokio::spawn(async move {
            if let Err(e) = Server::new_with_acceptor(acceptor).run(route).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let served = Server::new_with_acceptor(api)
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

/// The API's listener: plain TCP, or TLS when `[tls]` names a certificate and key.
async fn api_acceptor(app: &App) -> anyhow::Result<BoxAcceptor> {
    let bind = app.config.bind;
    let tcp = TcpListener::bind(bind);
    let Some((cert, key)) = app.config.tls.files() else {
        return Ok(tcp
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {bind}"))?
            .boxed());
    };
    let read = |what: &str, file: &std::path::Path| {
        std::fs::read(file)
            .with_context(|| format!("cannot read the TLS {what} {}", file.display()))
    };
    let (cert_pem, key_pem) = (read("certificate", cert)?, read("key", key)?);
    // Checked here: poem would only find out at the first connection.
    openssl::x509::X509::stack_from_pem(&cert_pem)
        .ok()
        .filter(|chain| !chain.is_empty())
        .with_context(|| format!("{} holds no PEM certificate", cert.display()))?;
    openssl::pkey::PKey::private_key_from_pem(&key_pem)
        .with_context(|| format!("{} holds no PEM private key", key.display()))?;
    let config = OpensslTlsConfig::new()
        .cert_from_data(cert_pem)
        .key_from_data(key_pem);
    Ok(tcp
        .openssl_tls(config)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {bind} with TLS"))?
        .boxed())
}

/// Fails with the directory named when the service could not write into it.
fn writable(dir: &std::path::Path) -> anyhow::Result<()> {
    let probe = dir.join(format!(".glint-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("the data directory {} is not writable", dir.display()))?;
    let _ = std::fs::remove_file(probe);
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

/// Keeps serving for `drain` while `/healthcheck` answers 503, so that load
/// balancers send nothing new when the listener closes; a second signal cuts
/// the wait short.
async fn drain_before_shutdown(drain: Duration) {
    if drain.is_zero() {
        return;
    }
    crate::service::health::start_draining();
    tracing::info!(
        seconds = drain.as_secs(),
        "draining: /healthcheck answers 503 until the shutdown"
    );
    tokio::select! {
        _ = tokio::time::sleep(drain) => {}
        _ = shutdown_signal() => {}
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
