//! Everything a request handler needs, built once at start-up.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::cache::ImageCache;
use crate::config::Config;
use crate::db::Database;
use crate::domain::protections::PropertyProtections;
use crate::domain::rules::Formats;
use crate::keymgr::KeyManager;
use crate::metadef_providers::MetadefProviders;
use crate::policy::Policy;
use crate::store::StoreRegistry;

/// Shared state of one server process. API nodes keep nothing else: all
/// state lives in the database and the stores.
pub struct App {
    pub config: Config,
    pub db: Database,
    pub stores: StoreRegistry,
    pub formats: Formats,
    pub auth: Authenticator,
    /// The policy rules in force, parsed at start-up.
    pub policy: Policy,
    /// The namespaces metadef providers serve, read at start-up.
    pub metadef_providers: MetadefProviders,
    /// This node's image cache.
    pub cache: ImageCache,
    /// Who may touch which extra properties.
    pub protections: PropertyProtections,
    /// Where image signing certificates are read.
    pub key_manager: KeyManager,
}

impl App {
    pub fn new(
        config: Config,
        db: Database,
        stores: StoreRegistry,
        auth: Authenticator,
        policy: Policy,
    ) -> Arc<Self> {
        Self::with_metadef_providers(
            config,
            db,
            stores,
            auth,
            policy,
            MetadefProviders::empty(),
            PropertyProtections::none(),
        )
    }

    /// Like [`App::new`], with the namespaces of metadef providers.
    pub fn with_metadef_providers(
        config: Config,
        db: Database,
        stores: StoreRegistry,
        auth: Authenticator,
        policy: Policy,
        metadef_providers: MetadefProviders,
        protections: PropertyProtections,
    ) -> Arc<Self> {
        let formats = Formats {
            container: config.image_format.container_formats.clone(),
            disk: config.image_format.disk_formats.clone(),
        };
        let cache = ImageCache::new(&config, db.clone());
        let key_manager = KeyManager::new(&config.barbican);
        Arc::new(Self {
            cache,
            config,
            db,
            stores,
            formats,
            auth,
            policy,
            metadef_providers,
            protections,
            key_manager,
        })
    }
}
