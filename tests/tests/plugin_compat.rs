//! Plugins built against another glint-sdk than the server's, as vendors ship them.
//!
//! The previous released SDK minor is pinned in `sdk/compat/` (the crate exactly as `cargo package`
//! shipped it) with a plugin built against it (the `dirhash` template as it was then). That plugin
//! loads into the current server, passes the current conformance kit and serves images. The same
//! plugin built against that SDK with its ABI minor raised past the server's stands for a plugin of
//! a newer SDK: the server refuses it, as `docs/abi.md` says, and keeps serving its other stores.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use glint_blackbox::{
    Glint, StatusCode, cargo_outside, md5_hex, outside_target, pattern, repo_root, target_dir,
};
use serde_json::{Value, json};

/// The pinned SDK (`sdk/compat/glint-sdk-1.2`): its crate version and store plugin ABI.
const PREVIOUS_SDK: &str = "0.1.0";
const PREVIOUS_ABI: &str = "1.2";

fn compat_dir() -> PathBuf {
    repo_root().join("sdk/compat")
}

/// `libglint_store_dirhash_sdk_1_2.so`, built once per test process from `sdk/compat`.
fn previous_minor_plugin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            cargo_outside(
                &compat_dir().join("store-dirhash-1.2"),
                &["build", "--locked"],
            );
            library("glint_store_dirhash_sdk_1_2")
        })
        .clone()
}

/// The server's store plugin ABI, `(major, minor)`.
fn host_abi() -> (u32, u32) {
    let mut parts = glint_sdk::abi::ABI_VERSION
        .split('.')
        .map(|part| part.parse().expect("ABI_VERSION is major.minor.patch"));
    (parts.next().unwrap(), parts.next().unwrap())
}

/// The same plugin, built against a copy of the pinned SDK whose ABI minor is one past the
/// server's: what a plugin built with an SDK newer than the server looks like to it.
fn newer_minor_plugin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let (target, _) = outside_target();
            let work = target.join("compat-newer-minor");
            let (sdk, plugin) = (work.join("glint-sdk"), work.join("plugin"));
            copy_tree(&compat_dir().join("glint-sdk-1.2"), &sdk);
            let (major, minor) = host_abi();
            let newer = format!("{major}.{}.0", minor + 1);
            rewrite(
                &sdk.join("src/abi.rs"),
                "pub const ABI_VERSION: &str = \"1.2.0\";",
                &format!("pub const ABI_VERSION: &str = \"{newer}\";"),
            );
            let previous = compat_dir().join("store-dirhash-1.2");
            copy_tree(&previous.join("src"), &plugin.join("src"));
            std::fs::copy(previous.join("Cargo.lock"), plugin.join("Cargo.lock")).unwrap();
            let manifest = std::fs::read_to_string(previous.join("Cargo.toml"))
                .unwrap()
                .replace(
                    "\"glint-store-dirhash-sdk-1-2\"",
                    "\"glint-store-dirhash-sdk-newer\"",
                )
                .replace("\"../glint-sdk-1.2\"", "\"../glint-sdk\"");
            std::fs::write(plugin.join("Cargo.toml"), manifest).unwrap();
            // Not `--locked`: the lock file names the package it was copied from.
            cargo_outside(&plugin, &["build"]);
            library("glint_store_dirhash_sdk_newer")
        })
        .clone()
}

fn library(crate_name: &str) -> PathBuf {
    let (target, profile) = outside_target();
    let library = target.join(profile).join(format!("lib{crate_name}.so"));
    assert!(library.exists(), "{} is missing", library.display());
    library
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces `old`, which must be there, with `new` in `file`.
fn rewrite(file: &Path, old: &str, new: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(old), "{} has no {old:?}", file.display());
    std::fs::write(file, text.replace(old, new)).unwrap();
}

fn options(scratch: &Path) -> Value {
    json!({ "root": scratch.join("objects") })
}

/// The current kit, through the current loader, against the plugin built with the previous SDK.
mod previous_minor_kit {
    glint_sdk_testkit::store_conformance_suite!(super::previous_minor_plugin(), super::options);
}

#[test]
fn the_previous_minor_plugin_is_stamped_with_its_abi_and_describes_itself() {
    let plugin = glint_sdk::host::load_store_plugin(&previous_minor_plugin())
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(plugin.sdk_version(), PREVIOUS_SDK);
    let packaged = std::fs::read_to_string(compat_dir().join("glint-sdk-1.2/src/abi.rs")).unwrap();
    assert!(
        packaged.contains(&format!(
            "pub const ABI_VERSION: &str = \"{PREVIOUS_ABI}.0\";"
        )),
        "sdk/compat/glint-sdk-1.2 is not store plugin ABI {PREVIOUS_ABI}"
    );
    assert_eq!(plugin.driver_name(), "dirhash");
    // `describe` came with ABI 1.2: the server reads it from a 1.2 plugin.
    let description = plugin.description().expect("a 1.2 plugin describes itself");
    assert_eq!(description.schemes, ["dirhash"]);
}

fn glint_cli(args: &[&str], config: &Path, plugins: &[&Path]) -> (bool, Value) {
    let out = Command::new(target_dir().join("glint"))
        .args(args)
        .env("GLINT_CONFIG", config)
        .env("GLINT_PLUGINS__PATHS", format!("{plugins:?}"))
        .output()
        .expect("run glint");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let parsed = serde_json::from_str(&stdout)
        .unwrap_or_else(|err| panic!("{err}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), parsed)
}

#[tokio::test]
async fn the_server_serves_images_through_a_plugin_of_the_previous_minor() {
    let library = tokio::task::spawn_blocking(previous_minor_plugin)
        .await
        .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("objects");
    let config = scratch.path().join("glint.toml");
    std::fs::write(
        &config,
        format!(
            "default_store = \"old\"\n\n[stores.old]\ndriver = \"dirhash\"\noptions = {{ root = {:?} }}\n",
            root.to_str().unwrap()
        ),
    )
    .unwrap();

    // `plugins list` names the SDK the plugin was built with and the store that uses it.
    let (ok, listing) = glint_cli(&["plugins", "list", "--json"], &config, &[&library]);
    assert!(ok, "{listing}");
    let plugin = listing["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["driver"] == "dirhash")
        .unwrap_or_else(|| panic!("{listing}"));
    assert_eq!(plugin["file"], library.to_str().unwrap());
    assert_eq!(plugin["sdk_version"], PREVIOUS_SDK);
    let (major, minor) = host_abi();
    assert_eq!(
        plugin["host_abi_version"],
        format!("{major}.{minor}"),
        "{plugin}"
    );
    assert_eq!(plugin["stores"][0]["id"], "old");
    assert_eq!(plugin["stores"][0]["capabilities"]["write"], true);

    let g = Glint::start_with(&[
        ("GLINT_CONFIG", config.to_str().unwrap()),
        ("GLINT_PLUGINS__PATHS", &format!("[{library:?}]")),
    ])
    .await;
    let data = pattern(2 * 1024 * 1024 + 5, 12);
    let img = g
        .create_with_data("built-with-the-previous-sdk", &data)
        .await;
    let id = img["id"].as_str().unwrap().to_owned();
    assert_eq!(img["stores"], "old");
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(std::fs::read(root.join(&id[..2]).join(&id)).unwrap(), data);
    let r = g
        .get(&format!("/v2/images/{id}/file"))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &data[100..200]);
    let r = g.delete(&format!("/v2/images/{id}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!root.join(&id[..2]).join(&id).exists());
}

#[tokio::test]
async fn a_plugin_of_a_newer_minor_is_refused_and_the_other_stores_keep_serving() {
    let library = tokio::task::spawn_blocking(newer_minor_plugin)
        .await
        .unwrap();
    let file_plugin = glint_sdk_testkit::cdylib_path("glint-store-file");
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("glint.toml");
    std::fs::write(
        &config,
        format!(
            "default_store = \"local\"\n\n\
             [stores.local]\ndriver = \"file\"\noptions = {{ datadir = {:?} }}\n\n\
             [stores.future]\ndriver = \"dirhash\"\noptions = {{ root = {:?} }}\n",
            scratch.path().join("images").to_str().unwrap(),
            scratch.path().join("objects").to_str().unwrap()
        ),
    )
    .unwrap();
    let (major, minor) = host_abi();
    let (newer, host) = (format!("{major}.{}", minor + 1), format!("{major}.{minor}"));
    let refusal = format!(
        "was built for store plugin ABI {newer}, but this host speaks store plugin ABI {host}"
    );

    // `plugins list` shows the refusal, and fails: a configured driver has no plugin.
    let (ok, listing) = glint_cli(
        &["plugins", "list", "--json"],
        &config,
        &[&file_plugin, &library],
    );
    assert!(!ok, "{listing}");
    assert_eq!(listing["missing_drivers"], json!(["dirhash"]), "{listing}");
    let refused = &listing["refused"][0];
    assert_eq!(refused["file"], library.to_str().unwrap(), "{listing}");
    assert!(
        refused["reason"].as_str().unwrap().contains(&refusal),
        "{listing}"
    );

    // The server starts, says why in one paragraph naming the file, and serves the file store.
    let g = Glint::start_with(&[
        ("GLINT_CONFIG", config.to_str().unwrap()),
        (
            "GLINT_PLUGINS__PATHS",
            &format!("[{file_plugin:?}, {library:?}]"),
        ),
    ])
    .await;
    let log = g.log();
    assert!(
        log.contains(&refusal) && log.contains(library.to_str().unwrap()),
        "{log}"
    );
    let stores: Value = g
        .get("/v2/info/stores")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = stores["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["local"], "{stores}");
    let img = g.create_with_data("beside-a-refused-plugin", b"data").await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["stores"], "local");
}
