//! The metadef provider registry: finds metadef plugin libraries, opens the
//! configured providers, and reads what they serve once, at start-up.
//!
//! Every document a provider returns is checked with the rules of
//! `glint metadefs load` (those of a namespace create request); one that
//! breaks a rule is logged with the provider's name for its source (a file
//! name) and left out. Requests are then answered from this snapshot: a
//! provider's namespaces change with a restart.
//!
//! A namespace name belongs to one place: the first provider (by name) that
//! serves it. A later provider's namespace of the same name is left out with
//! a warning, and a database namespace of that name is hidden while a
//! provider serves it (and cannot be created or renamed to it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use glint_sdk::host::{MetadefPlugin, MetadefSource, discover_metadef_plugins};
use glint_sdk::metadef::NamespaceEntry;

use crate::config::Config;
use crate::db::{Database, DocumentError, parse_document};
use crate::domain::metadefs::NamespaceDocument;

/// A namespace a provider serves.
#[derive(Debug, Clone)]
pub struct Provided {
    /// The provider's name in the configuration.
    pub provider: String,
    /// Where the provider got it (a file name), for messages.
    pub source: String,
    /// Its definition; every item carries the namespace's timestamps.
    pub doc: NamespaceDocument,
}

/// Every namespace the configured providers serve, by name.
#[derive(Debug, Clone, Default)]
pub struct MetadefProviders {
    namespaces: BTreeMap<String, Provided>,
}

impl MetadefProviders {
    /// No providers: every namespace comes from the database.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Loads the metadef plugins, opens every configured provider and reads
    /// its namespaces. A provider that fails to open or list is logged and
    /// left out; the others still serve.
    pub async fn open(config: &Config) -> Self {
        let mut providers = Self::empty();
        if config.metadefs.providers.is_empty() {
            return providers;
        }
        let plugins = load_plugins(&config.plugin_dirs(), &config.plugins.paths);
        let started = Utc::now();
        for (name, pc) in &config.metadefs.providers {
            let Some(plugin) = plugins.get(&pc.driver) else {
                tracing::error!(provider = %name, driver = %pc.driver, "metadef provider not opened: no plugin provides driver '{}'", pc.driver);
                continue;
            };
            let source = match plugin.open(name, &pc.options) {
                Ok(source) => source,
                Err(e) => {
                    tracing::error!(provider = %name, driver = %pc.driver, "metadef provider not opened: {e}");
                    continue;
                }
            };
            if !source.read_only() {
                tracing::warn!(provider = %name, "metadef provider says it is writable, but providers are served read-only");
            }
            providers.read(&source, started).await;
        }
        providers
    }

    /// Adds what `source` serves.
    async fn read(&mut self, source: &MetadefSource, started: DateTime<Utc>) {
        let provider = source.name();
        let entries = match source.list_namespaces().await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::error!(
                    provider,
                    "metadef provider left out: listing its namespaces failed: {e}"
                );
                return;
            }
        };
        let mut served = 0;
        for entry in entries {
            if let Some(first) = self.namespaces.get(&entry.namespace) {
                tracing::warn!(
                    provider,
                    "metadef provider {provider}: skipping {}: namespace {} is already served by provider {}",
                    entry.source,
                    entry.namespace,
                    first.provider
                );
                continue;
            }
            match document(source, &entry, started).await {
                Ok(doc) => {
                    self.namespaces.insert(
                        entry.namespace.clone(),
                        Provided {
                            provider: provider.to_owned(),
                            source: entry.source,
                            doc,
                        },
                    );
                    served += 1;
                }
                Err(reason) => tracing::error!(
                    provider,
                    "metadef provider {provider}: skipping {}: {reason}",
                    entry.source
                ),
            }
        }
        tracing::info!(
            provider,
            driver = source.driver(),
            namespaces = served,
            "metadef provider opened"
        );
    }

    /// Logs each database namespace a provider hides.
    pub async fn warn_shadowed(&self, db: &Database) {
        for (name, provided) in &self.namespaces {
            if let Ok(Some(_)) = db.get_namespace(name).await {
                tracing::warn!(provider = %provided.provider, "the database namespace {name} is hidden: metadef provider {} serves a namespace of that name", provided.provider);
            }
        }
    }

    /// The namespace `name`, if a provider serves it.
    pub fn get(&self, name: &str) -> Option<&Provided> {
        self.namespaces.get(name)
    }

    /// Every provided namespace, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Provided> {
        self.namespaces.values()
    }

    pub fn len(&self) -> usize {
        self.namespaces.len()
    }

    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }
}

/// The namespace of `entry`, checked as `glint metadefs load` checks a file.
/// Why a provider's namespace could not be served.
#[derive(Debug, thiserror::Error)]
enum DocumentProblem {
    #[error("fetching namespace {namespace} failed: {reason}")]
    Fetch { namespace: String, reason: String },
    #[error(transparent)]
    Invalid(#[from] DocumentError),
    #[error("the provider listed namespace {listed} but its document defines {defined}")]
    OtherNamespace { listed: String, defined: String },
}

async fn document(
    source: &MetadefSource,
    entry: &NamespaceEntry,
    started: DateTime<Utc>,
) -> Result<NamespaceDocument, DocumentProblem> {
    let text =
        source
            .get_namespace(&entry.namespace)
            .await
            .map_err(|e| DocumentProblem::Fetch {
                namespace: entry.namespace.clone(),
                reason: e.to_string(),
            })?;
    let mut doc = parse_document(&text)?;
    let ns = &doc.namespace;
    if ns.namespace != entry.namespace {
        return Err(DocumentProblem::OtherNamespace {
            listed: entry.namespace.clone(),
            defined: ns.namespace.clone(),
        });
    }
    if ns.visibility.as_str() != entry.visibility.as_str() || ns.owner != entry.owner {
        tracing::warn!(
            provider = source.name(),
            "metadef provider {}: {}: the listed visibility or owner differs from the document's; the document's is used",
            source.name(),
            entry.source
        );
    }
    // Whole seconds: what the database keeps (microseconds) can represent
    // them exactly, so provided and stored namespaces page consistently.
    let at = entry
        .updated_at
        .and_then(|secs| DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(|| DateTime::from_timestamp(started.timestamp(), 0).unwrap_or(started));
    stamp(&mut doc, at);
    Ok(doc)
}

/// Gives the namespace and everything in it the time `at`. Items keep the
/// document's order, as the database lists items loaded together.
fn stamp(doc: &mut NamespaceDocument, at: DateTime<Utc>) {
    let ns = &mut doc.namespace;
    (ns.created_at, ns.updated_at) = (at, Some(at));
    for a in &mut doc.associations {
        (a.created_at, a.updated_at) = (at, Some(at));
    }
    for o in &mut doc.objects {
        (o.created_at, o.updated_at) = (at, Some(at));
    }
    for p in &mut doc.properties {
        (p.created_at, p.updated_at) = (at, Some(at));
    }
    for t in &mut doc.tags {
        (t.created_at, t.updated_at) = (at, Some(at));
    }
}

/// Loads every explicit path named like a metadef plugin and every
/// `libglint_metadef_*.so` in `dirs`, keyed by driver name (see
/// `glint_sdk::host::plugin_files`).
fn load_plugins(dirs: &[PathBuf], paths: &[PathBuf]) -> BTreeMap<String, MetadefPlugin> {
    let found = discover_metadef_plugins(dirs, paths);
    for err in &found.refused {
        tracing::error!("{err}");
    }
    for (driver, ignored, used) in &found.duplicates {
        tracing::warn!(driver = %driver, ignored = %ignored.display(), used = %used.display(), "two plugins provide the same metadef driver");
    }
    for (driver, plugin) in &found.plugins {
        tracing::debug!(driver = %driver, path = %plugin.path().display(), sdk = %plugin.sdk_version(), "metadef plugin loaded");
    }
    found.plugins
}
