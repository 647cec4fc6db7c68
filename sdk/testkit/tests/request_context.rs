//! Store plugin ABI 1.1: the caller's context and ACLs, through the real loader, with a plugin of
//! this minor (`store_context`), one built for 1.0 (`store_abi_1_0`) and one of a newer minor.

use std::path::Path;

use bytes::Bytes;
use futures::StreamExt as _;
use glint_sdk::host::{LoadError, PluginKind, Store, load_store_plugin};
use glint_sdk::{Acl, DataStream, ErrorKind, RequestContext};
use glint_testkit::{collect, example_cdylib_path};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn open(example: &str, options: serde_json::Value) -> Store {
    load_store_plugin(&example_cdylib_path(example))
        .unwrap()
        .open("s", &options)
        .unwrap()
}

fn data(bytes: &'static [u8]) -> DataStream {
    futures::stream::iter([Ok(Bytes::from_static(bytes))]).boxed()
}

fn caller(project: &str) -> RequestContext {
    RequestContext::new(format!("token-of-{project}"), Some(project.into()))
}

fn assert_short(err: &LoadError, path: &Path) -> String {
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.len() < 600 && !message.contains('\n'), "{message}");
    message
}

#[test]
fn a_plugin_of_a_newer_minor_is_refused_naming_both_versions() {
    let path = example_cdylib_path("store_future_minor");
    let err = load_store_plugin(&path).expect_err("a newer minor must be refused");
    assert!(
        matches!(
            err,
            LoadError::Incompatible {
                kind: PluginKind::Store,
                ..
            }
        ),
        "{err:?}"
    );
    let message = assert_short(&err, &path);
    assert!(message.contains("store plugin ABI 1.2"), "{message}");
    assert!(message.contains("store plugin ABI 1.1"), "{message}");
}

#[test]
fn a_1_0_plugin_loads_and_serves_callers_through_its_plain_methods() {
    let store = open("store_abi_1_0", json!({}));
    assert!(store.capabilities().read && store.capabilities().write);
    assert_eq!(store.context_capabilities(), Default::default());
    let ctx = caller("p1");
    runtime().block_on(async {
        let put = store
            .put_as(&ctx, "img", Some(10), data(b"0123456789"))
            .await
            .unwrap();
        assert_eq!((put.location.as_str(), put.size), ("v10://object", 10));
        let got = store.get_as(&ctx, &put.location, None).await.unwrap();
        assert_eq!(collect(got.data).await, b"stored by an ABI 1.0 plugin");
        assert_eq!(store.size_as(&ctx, &put.location).await.unwrap(), 27);
        store.delete_as(&ctx, &put.location).await.unwrap();
        let err = store
            .set_acls(&ctx, &put.location, &Acl::new(true, vec![]))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    });
}

#[test]
fn methods_missing_from_a_1_0_vtable_answer_unsupported() {
    // A 1.0 plugin that sets the 1.1 bits makes the host call methods its vtable lacks: the
    // optional accessors see its shorter vtable and answer with the default bodies.
    let store = open("store_abi_1_0", json!({ "claim_context_bits": true }));
    assert!(store.context_capabilities().per_request_context);
    let ctx = caller("p1");
    runtime().block_on(async {
        let errors = [
            store.put_as(&ctx, "img", None, data(b"x")).await.map(drop),
            store.get_as(&ctx, "v10://object", None).await.map(drop),
            store.size_as(&ctx, "v10://object").await.map(drop),
            store.delete_as(&ctx, "v10://object").await,
            store.set_acls(&ctx, "v10://object", &Acl::default()).await,
        ];
        for result in errors {
            let err = result.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
            assert!(err.message.contains("older store plugin ABI"), "{err}");
        }
        // Its 1.0 methods still answer.
        assert_eq!(store.size("v10://object").await.unwrap(), 27);
    });
}

#[test]
fn the_callers_context_reaches_the_driver() {
    let store = open("store_context", json!({}));
    let caps = store.context_capabilities();
    assert!(caps.per_request_context && caps.acls, "{caps:?}");
    let ctx = caller("p1").with_service_catalog(r#"[{"type":"object-store"}]"#);
    runtime().block_on(async {
        let put = store
            .put_as(&ctx, "echo-context", None, data(b""))
            .await
            .unwrap();
        assert_eq!(put.location, "ctx://p1/echo-context");
        let got = store.get_as(&ctx, &put.location, None).await.unwrap();
        let seen = String::from_utf8(collect(got.data).await).unwrap();
        assert_eq!(
            seen,
            format!(
                "token:{} project:p1 catalog:[{{\"type\":\"object-store\"}}]",
                "token-of-p1".len()
            )
        );
        // Without a caller, a store that needs one refuses.
        let err = store.get(&put.location, None).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
        let err = store
            .put_as(&RequestContext::default(), "img", None, data(b"x"))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    });
}

#[test]
fn acls_replace_earlier_grants() {
    let store = open("store_context", json!({}));
    let (owner, member, other) = (caller("p1"), caller("p2"), caller("p3"));
    runtime().block_on(async {
        let location = store
            .put_as(&owner, "img", Some(4), data(b"data"))
            .await
            .unwrap()
            .location;
        let reads = |ctx: RequestContext| {
            let store = store.clone();
            let location = location.clone();
            async move { store.size_as(&ctx, &location).await.map(drop) }
        };
        let denied = |result: Result<(), glint_sdk::StoreError>| {
            matches!(result, Err(err) if err.kind == ErrorKind::PermissionDenied)
        };
        assert!(denied(reads(member.clone()).await));

        let shared = Acl::new(false, vec!["p2".into()]);
        store.set_acls(&owner, &location, &shared).await.unwrap();
        reads(member.clone()).await.unwrap();
        assert!(denied(reads(other.clone()).await));
        // Only the owner sets ACLs or deletes.
        let err = store.set_acls(&member, &location, &Acl::new(true, vec![])).await;
        assert!(denied(err));
        assert!(denied(store.delete_as(&member, &location).await));

        store
            .set_acls(&owner, &location, &Acl::new(true, vec![]))
            .await
            .unwrap();
        reads(other.clone()).await.unwrap();

        store
            .set_acls(&owner, &location, &Acl::default())
            .await
            .unwrap();
        assert!(denied(reads(member.clone()).await));
        assert!(denied(reads(other).await));

        store.delete_as(&owner, &location).await.unwrap();
        let err = store.size_as(&owner, &location).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    });
}
