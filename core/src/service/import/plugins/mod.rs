//! Import plugins: work done on an import's staged data after it arrived and
//! before it is written to the stores, as Glance's `image_import_plugins`
//! run, in the order `[image_import_opts] image_import_plugins` lists them.
//! They run on glance-direct, web-download and glance-download imports,
//! never on copy-image.
//!
//! A plugin reads and rewrites the staged file in the staging area (never
//! in memory), and changes the image record through [`modify`]. When one
//! fails, the import fails: the caller puts the image back to `queued` and
//! marks every target store failed, as Glance's plugins revert.
//!
//! One module per plugin: [`conversion`] (`image_conversion`),
//! [`decompression`] (`image_decompression`), [`inject`]
//! (`inject_image_metadata`).

mod conversion;
mod decompression;
mod inject;

use std::path::PathBuf;

use futures::future::BoxFuture;
use uuid::Uuid;

use crate::app::App;
use crate::config::ImportPluginName;
use crate::context::RequestContext;
use crate::domain::Image;
use crate::service::images::modify;
use crate::service::{ServiceError, ServiceResult, staging};

/// What a plugin works on: one import's staged data and its image.
pub(crate) struct Staged<'a> {
    pub app: &'a App,
    pub image_id: Uuid,
    /// Who started the import.
    pub caller: &'a RequestContext,
    /// The staged file. A plugin that rewrites it writes a partial file
    /// beside it ([`Staged::scratch`]) and renames that over it.
    pub path: PathBuf,
}

impl Staged<'_> {
    /// The image as it is now.
    pub async fn image(&self) -> Result<Image, PluginError> {
        self.app
            .db
            .get_image(self.image_id)
            .await
            .map_err(|e| PluginError(format!("could not read the image: {e}")))?
            .ok_or_else(|| PluginError(format!("image {} was deleted", self.image_id)))
    }

    /// Change the image record.
    pub async fn modify(
        &self,
        change: impl FnMut(&mut Image) -> ServiceResult<()>,
    ) -> Result<Image, PluginError> {
        modify(self.app, self.image_id, change)
            .await
            .map_err(|e| PluginError(format!("could not update the image: {e}")))
    }

    /// A file name beside the staged file for `purpose`, named as an
    /// unfinished stage is, so that crash recovery removes what a dead
    /// process left.
    pub fn scratch(&self, purpose: &str) -> PathBuf {
        staging::dir(self.app).join(format!(
            ".{}.{purpose}-{}.partial",
            self.image_id,
            Uuid::new_v4().simple()
        ))
    }
}

/// Why a plugin failed the import: the task's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct PluginError(pub String);

impl From<std::io::Error> for PluginError {
    fn from(e: std::io::Error) -> Self {
        Self(format!("staging area: {e}"))
    }
}

/// One import plugin.
pub(crate) trait ImportPlugin: Send + Sync {
    /// Glance's name for it, as configured.
    fn name(&self) -> &'static str;

    /// Do the plugin's work on `staged`; an error fails the import.
    fn run<'a>(&'a self, staged: &'a Staged<'a>) -> BoxFuture<'a, Result<(), PluginError>>;
}

fn plugin(name: ImportPluginName) -> Box<dyn ImportPlugin> {
    match name {
        ImportPluginName::ImageConversion => Box::new(conversion::ImageConversion),
        ImportPluginName::ImageDecompression => Box::new(decompression::ImageDecompression),
        ImportPluginName::InjectImageMetadata => Box::new(inject::InjectImageMetadata),
    }
}

/// Run the configured plugins, in order, on the staged data of `image_id`.
pub(crate) async fn run_all(
    app: &App,
    image_id: Uuid,
    caller: &RequestContext,
) -> ServiceResult<()> {
    let names = &app.config.image_import_opts.image_import_plugins;
    if names.is_empty() {
        return Ok(());
    }
    let staged = Staged {
        app,
        image_id,
        caller,
        path: staging::path(app, image_id),
    };
    for name in names {
        let plugin = plugin(*name);
        tracing::debug!(image = %image_id, plugin = plugin.name(), "running import plugin");
        if let Err(e) = plugin.run(&staged).await {
            staging::remove_partials(app, image_id).await;
            return Err(ServiceError::ImportPluginFailed {
                plugin: plugin.name(),
                why: e.0,
            });
        }
    }
    Ok(())
}
