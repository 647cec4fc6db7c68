//! A store plugin built outside the Glint workspace (`examples/out-of-tree-store`, driver
//! `dirhash`) serves a `glint` that was built without it: the plugin is compiled here with plain
//! `cargo build` in its own folder, then loaded from `plugins.paths`.

use std::path::{Path, PathBuf};
use std::process::Command;

use glint_blackbox::{
    Glint, StatusCode, cargo_outside, md5_hex, outside_target, pattern, repo_root, target_dir,
};
use serde_json::{Value, json};

/// The example crate's folder.
fn example_dir() -> PathBuf {
    repo_root().join("examples/out-of-tree-store")
}

/// Builds the example (its own Cargo.lock pins what it builds, as the workspace's does under CI)
/// and returns the path of its library.
fn build_example() -> PathBuf {
    cargo_outside(&example_dir(), &["build", "--locked"]);
    let (target, profile) = outside_target();
    let library = target.join(profile).join("libglint_store_dirhash.so");
    assert!(library.exists(), "{} is missing", library.display());
    library
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_plugin_built_outside_the_workspace_stores_images() {
    let library = tokio::task::spawn_blocking(build_example).await.unwrap();
    // Nothing of the plugin is next to the glint binary, where glint would discover it by itself.
    assert!(!target_dir().join("libglint_store_dirhash.so").exists());

    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("objects");
    let config = scratch.path().join("glint.toml");
    std::fs::write(
        &config,
        format!(
            "default_store = \"hashed\"\n\n\
             [stores.hashed]\n\
             driver = \"dirhash\"\n\
             description = \"Sharded directory\"\n\
             options = {{ root = {:?} }}\n",
            root.to_str().unwrap()
        ),
    )
    .unwrap();
    let g = Glint::start_with(&[
        ("GLINT_CONFIG", config.to_str().unwrap()),
        ("GLINT_PLUGINS__PATHS", &format!("[{library:?}]")),
    ])
    .await;
    // The plugin's own log line reaches glint's log through the SDK's logging callback.
    let log = g.log();
    assert!(
        log.contains("dirhash store opened") && log.contains(library.to_str().unwrap()),
        "the dirhash store did not open from {}:\n{log}",
        library.display()
    );

    let stores: Value = g
        .get("/v2/info/stores")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stores["stores"],
        json!([{"id": "hashed", "description": "Sharded directory", "default": "true"}])
    );

    // Upload: the bytes pass through the plugin into the shard of the image id.
    let data = pattern(3 * 1024 * 1024 + 17, 7);
    let img = g.create_with_data("out-of-tree", &data).await;
    let id = img["id"].as_str().unwrap().to_owned();
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], data.len());
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(img["stores"], "hashed");
    let shard = root.join(&id[..2]);
    assert_eq!(std::fs::read(shard.join(&id)).unwrap(), data);
    assert_eq!(listing(&shard), [id.as_str()]);
    assert_eq!(listing(&root.join(".incoming")), Vec::<String>::new());

    // Download, whole and ranged, reads the same bytes back through the plugin.
    let path = format!("/v2/images/{id}/file");
    let r = g.get(&path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-md5"], md5_hex(&data).as_str());
    assert_eq!(r.bytes().await.unwrap().as_ref(), data.as_slice());
    let r = g
        .get(&path)
        .header("range", "bytes=1048570-1048589")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        &data[1_048_570..1_048_590]
    );

    // Delete removes the object from its shard.
    let r = g.delete(&format!("/v2/images/{id}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(!shard.join(&id).exists(), "the object outlived its image");
    assert_eq!(listing(&shard), Vec::<String>::new());
    let r = g.get(&format!("/v2/images/{id}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_templates_own_ci_passes() {
    // What the example's README tells vendors to run in their CI: build the library, run the
    // SDK's conformance suite (and the driver's own tests) through the real loader, then load it
    // into a glint (the one built with this test) and store, read and delete an image through it.
    let (target, profile) = outside_target();
    let output = Command::new("bash")
        .arg(example_dir().join("ci.sh"))
        .env("GLINT", target_dir().join("glint"))
        .env("PROFILE", &profile)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run ci.sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "ci.sh failed ({}):\n{}\n{stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        stderr.contains("== ok: dirhash built, passed the kit"),
        "{stderr}"
    );
}
