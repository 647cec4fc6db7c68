//! The conversion a Ceph cloud relies on, against the real Ceph RBD store: a
//! qcow2 made by `qemu-img`, imported by glance-direct with `image_conversion`
//! to raw, is stored in RBD as the bytes `qemu-img convert` makes of it.

mod backends;

use std::process::Command;
use std::time::Duration;

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex};
use serde_json::{Value, json};

fn inline_table(options: &Value) -> String {
    let fields: Vec<String> = options
        .as_object()
        .expect("options are an object")
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

fn qemu_img(args: &[&str], dir: &std::path::Path) {
    let out = Command::new("qemu-img")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("qemu-img");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_qcow2_is_converted_to_raw_into_rbd() {
    let ceph = backends::ceph();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut raw = pattern(3 << 19, 21);
    raw.resize(4 << 20, 0);
    std::fs::write(dir.join("src.raw"), &raw).unwrap();
    qemu_img(
        &[
            "convert",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "src.raw",
            "img.qcow2",
        ],
        dir,
    );
    qemu_img(
        &[
            "convert",
            "-f",
            "qcow2",
            "-O",
            "raw",
            "img.qcow2",
            "expected.raw",
        ],
        dir,
    );
    let qcow2 = std::fs::read(dir.join("img.qcow2")).unwrap();
    let expected = std::fs::read(dir.join("expected.raw")).unwrap();

    let config = format!(
        "default_store = \"rbd\"\n\n[cache]\nenabled = false\n\n\
         [image_import_opts]\nimage_import_plugins = [\"image_conversion\"]\n\n\
         [stores.rbd]\ndriver = \"rbd\"\noptions = {}\n",
        inline_table(&ceph.options())
    );
    let file = dir.join("glint.toml");
    std::fs::write(&file, config).unwrap();
    let glint = Glint::start_with(&[
        ("GLINT_CONFIG", file.to_str().unwrap()),
        (
            "GLINT_PLUGINS__PATHS",
            &backends::plugin_paths(&["glint-store-rbd"]),
        ),
    ])
    .await;

    let img = glint
        .create(json!({"disk_format": "qcow2", "container_format": "bare"}))
        .await;
    let id = img["id"].as_str().unwrap().to_owned();
    let r = glint
        .put(&format!("/v2/images/{id}/stage"))
        .header("content-type", "application/octet-stream")
        .body(qcow2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = glint
        .post(&format!("/v2/images/{id}/import"))
        .json(&json!({"method": {"name": "glance-direct"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut img = Value::Null;
    for _ in 0..1200 {
        img = glint.show(&id).await;
        if img.get("os_glance_import_task").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(img["status"], "active", "{img}\n{}", glint.log());
    assert_eq!(img["stores"], "rbd");
    assert_eq!(img["disk_format"], "raw");
    assert_eq!(img["size"], expected.len() as u64);
    assert_eq!(img["virtual_size"], 4u64 << 20);
    assert_eq!(img["checksum"], md5_hex(&expected));
    assert_eq!(img["os_hash_value"], sha512_hex(&expected));
    // What RBD holds, read with the rbd tool.
    assert_eq!(ceph.image_md5(&id), md5_hex(&expected));
    let r = glint
        .delete(&format!("/v2/images/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
