//! Everything a request handler needs, built once at start-up.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::db::Database;
use crate::domain::rules::Formats;
use crate::store::StoreRegistry;

/// Shared state of one server process. API nodes keep nothing else: all
/// state lives in the database and the stores.
pub struct App {
    pub config: Config,
    pub db: Database,
    pub stores: StoreRegistry,
    pub formats: Formats,
    pub auth: Authenticator,
}

impl App {
    pub fn new(
        config: Config,
        db: Database,
        stores: StoreRegistry,
        auth: Authenticator,
    ) -> Arc<Self> {
        let formats = Formats {
            container: config.image_format.container_formats.clone(),
            disk: config.image_format.disk_formats.clone(),
        };
        Arc::new(Self {
            config,
            db,
            stores,
            formats,
            auth,
        })
    }
}
