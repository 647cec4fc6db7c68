//! The conversion a Ceph cloud relies on, against the real Ceph RBD store: a
//! qcow2 made by `qemu-img`, imported with `image_conversion` to raw by
//! glance-direct and by web-download (from Python's http.server on
//! loopback), is stored in RBD as the bytes `qemu-img convert` makes of it.

mod backends;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
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

/// `python3 -m http.server` on a free loopback port, serving `dir`; killed when dropped.
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    fn start(dir: &std::path::Path) -> FileServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let server = FileServer { child, port };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("http.server did not start on {port}");
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the import of `id` with `method` and waits for it to end; the image then.
async fn import(glint: &Glint, id: &str, method: Value) -> Value {
    let r = glint
        .post(&format!("/v2/images/{id}/import"))
        .json(&json!({ "method": method }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut img = Value::Null;
    for _ in 0..2400 {
        img = glint.show(id).await;
        if img.get("os_glance_import_task").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    img
}

#[tokio::test]
async fn a_qcow2_is_converted_to_raw_into_rbd_by_glance_direct_and_web_download() {
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
    assert_ne!(qcow2, expected);
    let web = FileServer::start(dir);

    let config = format!(
        "default_store = \"rbd\"\n\n[cache]\nenabled = false\n\n\
         [image_import_opts]\nimage_import_plugins = [\"image_conversion\"]\n\n\
         [import_filtering]\nallowed_hosts = [\"127.0.0.1\"]\nallowed_ports = [{}]\n\n\
         [stores.rbd]\ndriver = \"rbd\"\noptions = {}\n",
        web.port,
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

    let uri = format!("http://127.0.0.1:{}/img.qcow2", web.port);
    for method in [
        json!({"name": "glance-direct"}),
        json!({"name": "web-download", "uri": uri}),
    ] {
        let img = glint
            .create(json!({"disk_format": "qcow2", "container_format": "bare"}))
            .await;
        let id = img["id"].as_str().unwrap().to_owned();
        if method["name"] == "glance-direct" {
            let r = glint
                .put(&format!("/v2/images/{id}/stage"))
                .header("content-type", "application/octet-stream")
                .body(qcow2.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        }
        let img = import(&glint, &id, method.clone()).await;
        assert_eq!(img["status"], "active", "{method}: {img}\n{}", glint.log());
        assert_eq!(img["stores"], "rbd", "{method}");
        assert_eq!(img["disk_format"], "raw", "{method}");
        assert_eq!(img["container_format"], "bare", "{method}");
        assert_eq!(img["size"], expected.len() as u64, "{method}");
        assert_eq!(img["virtual_size"], 4u64 << 20, "{method}");
        assert_eq!(img["checksum"], md5_hex(&expected), "{method}");
        assert_eq!(img["os_hash_algo"], "sha512", "{method}");
        assert_eq!(img["os_hash_value"], sha512_hex(&expected), "{method}");
        // What RBD holds, read with the rbd tool.
        assert_eq!(ceph.image_md5(&id), md5_hex(&expected), "{method}");
        let r = glint
            .delete(&format!("/v2/images/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
}
