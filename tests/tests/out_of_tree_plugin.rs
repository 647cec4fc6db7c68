//! A store plugin built outside the Glint workspace (`examples/out-of-tree-store`, driver
//! `dirhash`) serves a `glint` that was built without it: the plugin is compiled here with plain
//! `cargo build` in its own folder, then loaded from `plugins.paths`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, target_dir};
use serde_json::{Value, json};

/// The example crate's folder.
fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace root")
        .join("examples/out-of-tree-store")
}

/// The example's own target directory under the workspace's (`target/out-of-tree`), kept between
/// runs, and the profile this test was built with.
fn example_target() -> (PathBuf, String) {
    let profile_dir = target_dir();
    let profile = profile_dir
        .file_name()
        .expect("target/<profile>")
        .to_string_lossy()
        .into_owned();
    let target = profile_dir
        .parent()
        .expect("target/<profile> has a parent")
        .join("out-of-tree");
    (target, profile)
}

/// Runs `cargo <subcommand> --locked` in the example's folder, as a vendor would, and fails the
/// test with cargo's output when it fails.
fn cargo_in_example(subcommand: &str) {
    let (target, profile) = example_target();
    // The cargo that runs this test, so the pinned toolchain builds the plugin too.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .arg(subcommand)
        // The example's own Cargo.lock pins what it builds, as the workspace's does under CI.
        .arg("--locked")
        .current_dir(example_dir())
        .env("CARGO_TARGET_DIR", &target);
    if profile == "release" {
        command.arg("--release");
    }
    let started = Instant::now();
    let output = command
        .output()
        .unwrap_or_else(|err| panic!("cargo {subcommand} for the example: {err}"));
    assert!(
        output.status.success(),
        "cargo {subcommand} in {} failed ({}); if it says the lock file needs updating, run \
         `cargo update --workspace` in that folder and commit its Cargo.lock:\n{}\n{}",
        example_dir().display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "cargo {subcommand} in examples/out-of-tree-store took {:.1?}",
        started.elapsed()
    );
}

/// Builds the example and returns the path of its library.
fn build_example() -> PathBuf {
    cargo_in_example("build");
    let (target, profile) = example_target();
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
fn the_example_passes_the_conformance_suite_from_its_own_folder() {
    // What the example's README tells vendors to run: the SDK's conformance suite (and the
    // driver's own tests) through the real loader, with `glint-testkit` as a dev-dependency.
    cargo_in_example("test");
}
