//! Store plugin ABI 1.1: the caller's context and ACLs, through the real loader, with a plugin of
//! this minor (`store_context`), one built for 1.0 (`store_abi_1_0`) and one of a newer minor.

use std::path::Path;

use bytes::Bytes;
use futures::StreamExt as _;
use glint_sdk::host::{LoadError, PluginKind, Store, load_store_plugin};
use glint_sdk::{Acl, DataStream, ErrorKind, RequestContext};
use glint_sdk_testkit::{collect, example_cdylib_path};
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
    assert!(message.contains("store plugin ABI 1.4"), "{message}");
    assert!(message.contains("store plugin ABI 1.3"), "{message}");
}

#[test]
fn a_1_0_plugin_loads_and_serves_callers_through_its_plain_methods() {
    let store = open("store_abi_1_0", json!({}));
    assert!(store.capabilities().read && store.capabilities().write);
    assert_eq!(store.context_capabilities(), Default::default());
    let ctx = caller("p1");
    runtime().block_on(async {
        let put = store
            .with_caller(ctx.clone())
            .put("img", Some(10), data(b"0123456789"))
            .await
            .unwrap();
        assert_eq!((put.location.as_str(), put.size), ("v10://object", 10));
        let got = store
            .with_caller(ctx.clone())
            .get(&put.location, None)
            .await
            .unwrap();
        assert_eq!(collect(got.data).await, b"stored by an ABI 1.0 plugin");
        assert_eq!(
            store
                .with_caller(ctx.clone())
                .size(&put.location)
                .await
                .unwrap(),
            27
        );
        store
            .with_caller(ctx.clone())
            .delete(&put.location)
            .await
            .unwrap();
        let err = store
            .with_caller(ctx.clone())
            .set_acls(&put.location, &Acl::new(true, vec![]))
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
            store
                .with_caller(ctx.clone())
                .put("img", None, data(b"x"))
                .await
                .map(drop),
            store
                .with_caller(ctx.clone())
                .get("v10://object", None)
                .await
                .map(drop),
            store
                .with_caller(ctx.clone())
                .size("v10://object")
                .await
                .map(drop),
            store.with_caller(ctx.clone()).delete("v10://object").await,
            store
                .with_caller(ctx.clone())
                .set_acls("v10://object", &Acl::default())
                .await,
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
            .with_caller(ctx.clone())
            .put("echo-context", None, data(b""))
            .await
            .unwrap();
        assert_eq!(put.location, "ctx://p1/echo-context");
        let got = store
            .with_caller(ctx.clone())
            .get(&put.location, None)
            .await
            .unwrap();
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
            .with_caller(RequestContext::default())
            .put("img", None, data(b"x"))
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
            .with_caller(owner.clone()).put("img", Some(4), data(b"data"))
            .await
            .unwrap()
            .location;
        let reads = |ctx: RequestContext| {
            let store = store.clone();
            let location = location.clone();
            async move { store.with_caller(ctx.clone()).size(&location).await.map(drop) }
        };
        let denied = |result: Result<(), glint_sdk::StoreError>| {
            matches!(result, Err(err) if err.kind == ErrorKind::PermissionDenied)
        };
        assert!(denied(reads(member.clone()).await));

        let shared = Acl::new(false, vec!["p2".into()]);
        store.with_caller(owner.clone()).set_acls(&location, &shared).await.unwrap();
        reads(member.clone()).await.unwrap();
        assert!(denied(reads(other.clone()).await));
        // Only the owner sets ACLs or deletes.
        let err = store.with_caller(member.clone()).set_acls(&location, &Acl::new(true, vec![])).await;
        assert!(denied(err));
        assert!(denied(store.with_caller(member.clone()).delete(&location).await));

        store
            .with_caller(owner.clone()).set_acls(&location, &Acl::new(true, vec![]))
            .await
            .unwrap();
        reads(other.clone()).await.unwrap();

        store
            .with_caller(owner.clone()).set_acls(&location, &Acl::default())
            .await
            .unwrap();
        assert!(denied(reads(member.clone()).await));
        assert!(denied(reads(other).await));

        store.with_caller(owner.clone()).delete(&location).await.unwrap();
        let err = store.with_caller(owner.clone()).size(&location).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    });
}
