//! Metadef provider conformance: one suite every metadef provider plugin passes, through the real
//! loader. Each case enforces lines of the `# Behavior` lists on
//! [`glint_sdk::metadef::MetadefProvider`].
//!
//! The suite needs a configuration under which the provider serves at least one namespace. Use it
//! from a plugin's integration test:
//!
//! ```ignore
//! glint_sdk_testkit::metadef_provider_conformance_suite!(
//!     glint_sdk_testkit::cdylib_path("glint_metadef_dir"),
//!     |_: &std::path::Path| serde_json::json!({ "path": "/usr/share/glint/metadefs" })
//! );
//! ```

use std::collections::BTreeSet;
use std::future::Future;
use std::path::Path;

use glint_sdk::ErrorKind;
use glint_sdk::host::{MetadefSource, load_metadef_plugin};
use glint_sdk::metadef::{NamespaceEntry, NamespaceVisibility};
use serde_json::Value;

/// Expands to one `#[test]` per metadef provider conformance case, so a failure names its case.
///
/// `$plugin` is the path of the plugin library; `$config` maps a fresh scratch directory (removed
/// after the case) to the provider's options.
#[macro_export]
macro_rules! metadef_provider_conformance_suite {
    ($plugin:expr, $config:expr) => {
        $crate::metadef_provider_conformance_suite!(@cases $plugin, $config;
            serves_unique_names,
            every_entry_can_be_fetched,
            documents_agree_with_their_entries,
            missing_namespace_is_not_found,
            answers_are_stable,
            concurrent_gets_agree,
        );

        #[test]
        fn unknown_option_is_config_invalid() {
            $crate::metadef::unknown_option_is_config_invalid($plugin, $config);
        }
    };
    (@cases $plugin:expr, $config:expr; $($case:ident,)+) => {
        $(
            #[test]
            fn $case() {
                $crate::metadef::run_metadef_case($plugin, $config, $crate::metadef::$case);
            }
        )+
    };
}

/// Loads the plugin at `plugin`, opens a provider on a fresh scratch directory, and runs `case` on
/// a multi-threaded runtime like the server's.
pub fn run_metadef_case<C, F>(
    plugin: impl AsRef<Path>,
    config: impl FnOnce(&Path) -> Value,
    case: C,
) where
    C: FnOnce(MetadefSource) -> F,
    F: Future<Output = ()>,
{
    let scratch = tempfile::tempdir().expect("scratch directory");
    let source = load_metadef_plugin(plugin.as_ref())
        .unwrap_or_else(|err| panic!("{err}"))
        .open("conformance", &config(scratch.path()))
        .unwrap_or_else(|err| panic!("opening the provider failed: {err}"));
    crate::block_on(case(source));
}

async fn entries(source: &MetadefSource) -> Vec<NamespaceEntry> {
    let entries = source
        .list_namespaces()
        .await
        .unwrap_or_else(|err| panic!("list_namespaces failed: {err}"));
    assert!(
        !entries.is_empty(),
        "the conformance suite needs a configuration that serves at least one namespace"
    );
    entries
}

async fn document(source: &MetadefSource, name: &str) -> Value {
    let text = source
        .get_namespace(name)
        .await
        .unwrap_or_else(|err| panic!("get_namespace({name}) failed: {err}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("the document of {name} is not JSON: {err}"))
}

/// `list_namespaces`: names are unique.
pub async fn serves_unique_names(source: MetadefSource) {
    let entries = entries(&source).await;
    let mut seen = BTreeSet::new();
    for entry in &entries {
        assert!(
            seen.insert(entry.namespace.as_str()),
            "{} is listed twice",
            entry.namespace
        );
        assert!(!entry.namespace.is_empty(), "an entry has an empty name");
    }
}

/// `list_namespaces`: each listed namespace can be fetched. `get_namespace`: the document is a
/// JSON object whose `namespace` is the name asked for.
pub async fn every_entry_can_be_fetched(source: MetadefSource) {
    for entry in entries(&source).await {
        let doc = document(&source, &entry.namespace).await;
        assert!(doc.is_object(), "{}: not a JSON object", entry.namespace);
        assert_eq!(
            doc["namespace"].as_str(),
            Some(entry.namespace.as_str()),
            "{}: the document names another namespace",
            entry.source
        );
    }
}

/// `list_namespaces`: a document's `visibility` and `owner` equal its entry's (a document without
/// `visibility` is private, as Glance reads it).
pub async fn documents_agree_with_their_entries(source: MetadefSource) {
    for entry in entries(&source).await {
        let doc = document(&source, &entry.namespace).await;
        let visibility = doc.get("visibility").and_then(Value::as_str).map_or(
            Some(NamespaceVisibility::Private),
            NamespaceVisibility::parse,
        );
        assert_eq!(
            visibility,
            Some(entry.visibility),
            "{}: visibility differs from the entry",
            entry.namespace
        );
        assert_eq!(
            doc.get("owner").and_then(Value::as_str),
            entry.owner.as_deref(),
            "{}: owner differs from the entry",
            entry.namespace
        );
    }
}

/// `get_namespace`: a name the provider does not serve fails with `NotFound`.
pub async fn missing_namespace_is_not_found(source: MetadefSource) {
    let err = source
        .get_namespace("Glint::Conformance::NoSuchNamespace")
        .await
        .expect_err("a namespace that is not served must not be found");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

/// `list_namespaces` and `get_namespace`: two calls without a change give the same answer.
pub async fn answers_are_stable(source: MetadefSource) {
    let first = entries(&source).await;
    let second = entries(&source).await;
    let sorted = |mut list: Vec<NamespaceEntry>| {
        list.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        list
    };
    assert_eq!(sorted(first.clone()), sorted(second));
    for entry in first {
        let once = source.get_namespace(&entry.namespace).await.unwrap();
        let twice = source.get_namespace(&entry.namespace).await.unwrap();
        assert_eq!(once, twice, "{}", entry.namespace);
    }
}

/// Every method may be called concurrently from any host thread.
pub async fn concurrent_gets_agree(source: MetadefSource) {
    let entries = entries(&source).await;
    let tasks: Vec<_> = entries
        .iter()
        .map(|entry| {
            let source = source.clone();
            let name = entry.namespace.clone();
            tokio::spawn(async move { (source.get_namespace(&name).await, name) })
        })
        .collect();
    for task in tasks {
        let (doc, name) = task.await.expect("the task ran");
        let doc = doc.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(doc, source.get_namespace(&name).await.unwrap(), "{name}");
    }
}

/// `open`: an unknown option fails with `ConfigInvalid` and a message naming it.
pub fn unknown_option_is_config_invalid(
    plugin: impl AsRef<Path>,
    config: impl FnOnce(&Path) -> Value,
) {
    const OPTION: &str = "glint_conformance_unknown_option";
    let scratch = tempfile::tempdir().expect("scratch directory");
    let mut options = config(scratch.path());
    options
        .as_object_mut()
        .expect("provider options are a JSON object")
        .insert(OPTION.into(), Value::Bool(true));
    let err = load_metadef_plugin(plugin.as_ref())
        .unwrap_or_else(|err| panic!("{err}"))
        .open("conformance", &options)
        .expect_err("an unknown option must be refused");
    assert_eq!(err.kind, ErrorKind::ConfigInvalid, "{err}");
    assert!(err.message.contains(OPTION), "{err}");
}
