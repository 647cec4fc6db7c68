//! Disk-format inspection of uploads: `virtual_size`, a `disk_format` that the
//! data contradicts, unsafe images. Images are made by `qemu-img` at test time.

use std::path::Path;
use std::process::Command;

use glint_blackbox::{Glint, StatusCode, pattern};
use serde_json::{Value, json};

/// `qemu-img create -f format [-o options] path size`; the tests need qemu-img.
fn qemu_img_create(path: &Path, format: &str, options: &str, size: &str) -> Vec<u8> {
    let mut cmd = Command::new("qemu-img");
    cmd.args(["create", "-q", "-f", format]);
    if !options.is_empty() {
        cmd.args(["-o", options]);
    }
    let out = cmd
        .arg(path)
        .arg(size)
        .output()
        .unwrap_or_else(|e| panic!("qemu-img is required (apt-get install qemu-utils): {e}"));
    assert!(
        out.status.success(),
        "qemu-img: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

async fn create(g: &Glint, disk_format: &str, container_format: &str) -> String {
    let img = g
        .create(json!({"name": "img", "disk_format": disk_format, "container_format": container_format}))
        .await;
    img["id"].as_str().unwrap().to_owned()
}

async fn put(g: &Glint, id: &str, data: &[u8]) -> (StatusCode, String) {
    let r = g
        .put(&format!("/v2/images/{id}/file"))
        .header("content-type", "application/octet-stream")
        .header("accept", "application/json")
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Upload `data` as an image of these formats and return the image after it.
async fn upload(g: &Glint, disk_format: &str, data: &[u8]) -> (StatusCode, String, Value) {
    let id = create(g, disk_format, "bare").await;
    let (status, body) = put(g, &id, data).await;
    (status, body, g.show(&id).await)
}

async fn assert_refused_and_clean(
    g: &Glint,
    status: StatusCode,
    body: &str,
    img: &Value,
    msg: &str,
) {
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let err: Value = serde_json::from_str(body).unwrap();
    assert!(
        err["message"].as_str().unwrap().contains(msg),
        "{body} lacks {msg:?}"
    );
    assert_eq!(err["code"], "415 Unsupported Media Type");
    // Left as Glance leaves it, ready for a retry, and no data kept.
    assert_eq!(img["status"], "queued", "{img}");
    assert_eq!(img["size"], Value::Null);
    assert_eq!(img["virtual_size"], Value::Null);
    assert_eq!(img["checksum"], Value::Null);
    // The store removes its partial file as its write is abandoned, which may
    // finish just after the answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !g.stored_files().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "data kept: {:?}",
            g.stored_files()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn qcow2_upload_gets_its_virtual_size() {
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = qemu_img_create(&dir.path().join("a.qcow2"), "qcow2", "", "16M");
    let (status, body, img) = upload(&g, "qcow2", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["status"], "active");
    assert_eq!(img["size"], data.len());
    assert_eq!(img["virtual_size"], 16 << 20);
}

#[tokio::test]
async fn vmdk_vhdx_and_vdi_uploads_get_their_virtual_size() {
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (disk_format, qemu_format, options) in [
        ("vmdk", "vmdk", "subformat=streamOptimized"),
        ("vmdk", "vmdk", "subformat=monolithicSparse"),
        ("vhdx", "vhdx", ""),
        ("vdi", "vdi", ""),
    ] {
        let path = dir.path().join(format!("img.{disk_format}"));
        let _ = std::fs::remove_file(&path);
        let data = qemu_img_create(&path, qemu_format, options, "64M");
        let (status, body, img) = upload(&g, disk_format, &data).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{disk_format}: {body}");
        assert_eq!(img["virtual_size"], 64 << 20, "{disk_format} {options}");
    }
}

#[tokio::test]
async fn small_chunks_of_a_chunked_upload_are_inspected_alike() {
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (disk_format, chunk) in [("qcow2", 1000), ("vhdx", 4099)] {
        let data = qemu_img_create(&dir.path().join(disk_format), disk_format, "", "32M");
        let id = create(&g, disk_format, "bare").await;
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
            .chunks(chunk)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect();
        let r = g
            .put(&format!("/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{disk_format}");
        assert_eq!(g.show(&id).await["virtual_size"], 32 << 20, "{disk_format}");
    }
}

#[tokio::test]
async fn raw_virtual_size_is_its_size() {
    let g = Glint::start().await;
    let data = pattern(3 * 1024 * 1024 + 5, 8);
    let (status, body, img) = upload(&g, "raw", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["virtual_size"], data.len());
}

#[tokio::test]
async fn a_qcow2_stored_as_raw_is_accepted_with_its_length() {
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = qemu_img_create(&dir.path().join("a.qcow2"), "qcow2", "", "1G");
    let (status, body, img) = upload(&g, "raw", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["status"], "active");
    assert_eq!(img["virtual_size"], data.len());
}

#[tokio::test]
async fn data_that_is_not_the_disk_format_is_refused_and_not_kept() {
    let g = Glint::start().await;
    let data = pattern(1 << 20, 9);
    let (status, body, img) = upload(&g, "qcow2", &data).await;
    assert_refused_and_clean(
        &g,
        status,
        &body,
        &img,
        "Image disk_format qcow2 does not match stream data raw",
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let qcow2 = qemu_img_create(&dir.path().join("a.qcow2"), "qcow2", "", "16M");
    let (status, body, img) = upload(&g, "vmdk", &qcow2).await;
    assert_refused_and_clean(
        &g,
        status,
        &body,
        &img,
        "Image disk_format vmdk does not match stream data qcow2",
    )
    .await;

    // The image takes a retry with the right data.
    let id = img["id"].as_str().unwrap();
    let vmdk = qemu_img_create(&dir.path().join("a.vmdk"), "vmdk", "", "16M");
    let (status, body) = put(&g, id, &vmdk).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let img = g.show(id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(img["virtual_size"], 16 << 20);
}

#[tokio::test]
async fn a_qcow2_with_a_backing_file_is_refused() {
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.qcow2");
    qemu_img_create(&base, "qcow2", "", "16M");
    let options = format!("backing_file={},backing_fmt=qcow2", base.display());
    let data = qemu_img_create(&dir.path().join("top.qcow2"), "qcow2", &options, "16M");
    for disk_format in ["qcow2", "raw"] {
        let (status, body, img) = upload(&g, disk_format, &data).await;
        assert_refused_and_clean(&g, status, &body, &img, "Image failed safety checks").await;
    }
}

#[tokio::test]
async fn a_vmdk_descriptor_naming_host_files_is_refused() {
    let g = Glint::start().await;
    let descriptor = b"# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
createType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/passwd\" 0\n";
    for disk_format in ["vmdk", "raw"] {
        let (status, body, img) = upload(&g, disk_format, descriptor).await;
        assert_refused_and_clean(&g, status, &body, &img, "Image failed safety checks").await;
    }
}

#[tokio::test]
async fn the_tempest_images_are_accepted() {
    // The image server Tempest downloads from holds 1 MiB of gzip'd random
    // bytes, created as raw, and an empty 16 MiB qcow2, created as qcow2.
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random");
    std::fs::write(&random, pattern(1 << 20, 21)).unwrap();
    let status = Command::new("gzip")
        .args(["-k", "-n"])
        .arg(&random)
        .status()
        .expect("gzip");
    assert!(status.success());
    let gz = std::fs::read(dir.path().join("random.gz")).unwrap();
    let (status, body, img) = upload(&g, "raw", &gz).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["virtual_size"], gz.len());

    let qcow2 = qemu_img_create(&dir.path().join("disk.img"), "qcow2", "", "16M");
    let (status, body, img) = upload(&g, "qcow2", &qcow2).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["virtual_size"], 16 << 20);
}

#[tokio::test]
async fn only_bare_containers_and_inspectable_formats_are_checked() {
    let g = Glint::start().await;
    let data = pattern(100_000, 4);
    // An ovf container holds no bare disk: nothing is inspected.
    let id = create(&g, "qcow2", "ovf").await;
    let (status, body) = put(&g, &id, &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(g.show(&id).await["virtual_size"], Value::Null);
    // ami cannot be inspected: unrecognised content passes, without a virtual size.
    let (status, body, img) = upload(&g, "ami", &data).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["virtual_size"], Value::Null);
}

#[tokio::test]
async fn a_mismatch_passes_when_no_match_is_required() {
    let g = Glint::start_with(&[("GLINT_IMAGE_FORMAT__REQUIRE_IMAGE_FORMAT_MATCH", "false")]).await;
    let (status, body, img) = upload(&g, "qcow2", &pattern(70_000, 6)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(img["status"], "active");
    assert_eq!(img["virtual_size"], Value::Null);
}
