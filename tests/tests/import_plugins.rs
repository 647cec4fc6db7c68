//! Import plugins against the real binary: `image_conversion` with the real
//! `qemu-img`, `image_decompression` of gzip and zip made by Python's own
//! modules, `inject_image_metadata`; copy-image into three stores with
//! `max_parallel_stores`; the `store_type` location strategy. Data comes by
//! glance-direct (stage) and by web-download from a real HTTP server
//! (Python's http.server).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, sha512_hex};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Glint with one file store `file` (plus `extra`, TOML put before it) and an import
/// filter that lets web-download reach 127.0.0.1 on `port`.
struct Site {
    glint: Glint,
    _config: TempDir,
    store: TempDir,
}

async fn site(port: u16, extra: &str) -> Site {
    let store = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("glint.toml");
    std::fs::write(
        &file,
        format!(
            r#"default_store = "file"
{extra}

[stores.file]
driver = "file"
options = {{ datadir = {store:?} }}

[import_filtering]
allowed_hosts = ["127.0.0.1"]
allowed_ports = [{port}]
"#,
            store = store.path().to_str().unwrap(),
        ),
    )
    .unwrap();
    let glint = Glint::start_with(&[("GLINT_CONFIG", file.to_str().unwrap())]).await;
    Site {
        glint,
        _config: config,
        store,
    }
}

impl Site {
    async fn create(&self, disk_format: &str, container_format: &str) -> String {
        let img = self
            .glint
            .create(json!({"disk_format": disk_format, "container_format": container_format}))
            .await;
        img["id"].as_str().unwrap().to_owned()
    }

    async fn stage(&self, id: &str, data: &[u8]) {
        let r = self
            .glint
            .put(&format!("/v2/images/{id}/stage"))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }

    async fn import(&self, id: &str, body: Value) {
        let r = self
            .glint
            .post(&format!("/v2/images/{id}/import"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(status, StatusCode::ACCEPTED, "{}", r.text().await.unwrap());
    }

    /// Stage `data` and import it with glance-direct; the image once settled.
    async fn direct(&self, id: &str, data: &[u8]) -> Value {
        self.stage(id, data).await;
        self.import(id, json!({"method": {"name": "glance-direct"}}))
            .await;
        self.settled(id).await
    }

    async fn web(&self, id: &str, uri: &str) -> Value {
        self.import(id, json!({"method": {"name": "web-download", "uri": uri}}))
            .await;
        self.settled(id).await
    }

    /// Polls the image until its import task is over.
    async fn settled(&self, id: &str) -> Value {
        for _ in 0..1200 {
            let img = self.glint.show(id).await;
            let importing = img["os_glance_importing_to_stores"].as_str().unwrap_or("");
            if img.get("os_glance_import_task").is_none() && importing.is_empty() {
                return img;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "import of {id} did not finish: {}",
            self.glint.show(id).await
        );
    }

    async fn download(&self, id: &str) -> Vec<u8> {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/file"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.bytes().await.unwrap().to_vec()
    }

    /// The image's one import task.
    async fn task(&self, id: &str) -> Value {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/tasks"))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        body["tasks"][0].clone()
    }

    fn staged(&self) -> Vec<String> {
        std::fs::read_dir(self.glint.data_dir.path().join("staging"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The import of `id` failed with a task message containing `why`: the
    /// image is queued again without data, its store marked failed, staging
    /// and the store empty.
    async fn refused(&self, id: &str, img: &Value, why: &str) {
        assert_eq!(img["status"], "queued", "{img}");
        assert_eq!(img["os_glance_failed_import"], "file", "{img}");
        assert!(img["checksum"].is_null(), "{img}");
        assert!(img["size"].is_null(), "{img}");
        let task = self.task(id).await;
        assert_eq!(task["status"], "failure", "{task}");
        let message = task["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
        assert!(self.staged().is_empty(), "{:?}", self.staged());
        assert!(!self.store.path().join(id).exists());
    }
}

/// `python3 -m http.server` on a free port, serving a temporary directory.
struct Fixtures {
    child: Child,
    dir: TempDir,
    port: u16,
}

impl Fixtures {
    fn start() -> Fixtures {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Fixtures { child, dir, port };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("http.server did not start on {port}");
    }

    fn serve(&self, name: &str, data: &[u8]) -> String {
        std::fs::write(self.dir.path().join(name), data).unwrap();
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 4 MiB qcow2 made by `qemu-img` from 1.5 MiB of pattern (the rest
/// zeros), and what `qemu-img convert` makes of it as raw.
fn qcow2(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut raw = pattern(3 << 19, 7);
    raw.resize(4 << 20, 0);
    std::fs::write(dir.join("src.raw"), &raw).unwrap();
    run(
        "qemu-img",
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
    run(
        "qemu-img",
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
    (
        std::fs::read(dir.join("img.qcow2")).unwrap(),
        std::fs::read(dir.join("expected.raw")).unwrap(),
    )
}

const CONVERSION: &str = r#"
[image_import_opts]
image_import_plugins = ["image_conversion"]

[image_conversion]
output_format = "raw"
"#;

fn assert_converted(img: &Value, expected: &[u8]) {
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["disk_format"], "raw");
    assert_eq!(img["container_format"], "bare");
    assert_eq!(img["size"], expected.len() as u64);
    assert_eq!(img["virtual_size"], 4u64 << 20);
    assert_eq!(img["checksum"], md5_hex(expected));
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["os_hash_value"], sha512_hex(expected));
}

#[tokio::test]
async fn a_qcow2_is_converted_to_raw_by_glance_direct_and_web_download() {
    let work = tempfile::tempdir().unwrap();
    let (qcow2, expected) = qcow2(work.path());
    assert_ne!(qcow2, expected);
    let fixtures = Fixtures::start();
    let s = site(fixtures.port, CONVERSION).await;

    let id = s.create("qcow2", "bare").await;
    let img = s.direct(&id, &qcow2).await;
    assert_converted(&img, &expected);
    assert_eq!(s.download(&id).await, expected);
    assert_eq!(s.task(&id).await["status"], "success");
    assert!(s.staged().is_empty(), "{:?}", s.staged());

    let id = s.create("qcow2", "bare").await;
    let img = s.web(&id, &fixtures.serve("img.qcow2", &qcow2)).await;
    assert_converted(&img, &expected);
    assert_eq!(s.download(&id).await, expected);
    assert_eq!(
        std::fs::read(s.store.path().join(&id)).unwrap(),
        expected,
        "the store holds the converted bytes"
    );
    assert!(s.staged().is_empty(), "{:?}", s.staged());
}

#[tokio::test]
async fn unsafe_or_mismatched_images_are_refused_by_the_conversion() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (qcow2, _) = qcow2(dir);
    std::fs::write(dir.join("base.raw"), vec![1u8; 1 << 20]).unwrap();
    run(
        "qemu-img",
        &[
            "create",
            "-f",
            "qcow2",
            "-b",
            "base.raw",
            "-F",
            "raw",
            "backed.qcow2",
        ],
        dir,
    );
    run(
        "qemu-img",
        &[
            "create",
            "-f",
            "qcow2",
            "-o",
            "data_file=external.raw",
            "external.qcow2",
            "1M",
        ],
        dir,
    );
    let fixtures = Fixtures::start();
    let s = site(fixtures.port, CONVERSION).await;

    let backed = std::fs::read(dir.join("backed.qcow2")).unwrap();
    let id = s.create("qcow2", "bare").await;
    let img = s.direct(&id, &backed).await;
    s.refused(&id, &img, "Image has disallowed configuration")
        .await;

    let external = std::fs::read(dir.join("external.qcow2")).unwrap();
    let id = s.create("qcow2", "bare").await;
    let img = s
        .web(&id, &fixtures.serve("external.qcow2", &external))
        .await;
    s.refused(&id, &img, "Image has disallowed configuration")
        .await;

    // A qcow2 said to be raw, and raw data said to be qcow2.
    let id = s.create("raw", "bare").await;
    let img = s.direct(&id, &qcow2).await;
    s.refused(&id, &img, "Image format mismatch").await;
    let id = s.create("qcow2", "bare").await;
    let img = s.direct(&id, &pattern(1 << 20, 9)).await;
    s.refused(&id, &img, "Image format mismatch").await;

    // After a refusal the image can be imported again.
    s.stage(&id, &qcow2).await;
    s.import(&id, json!({"method": {"name": "glance-direct"}}))
        .await;
    assert_eq!(s.settled(&id).await["status"], "active");
}

/// `script` run by python3 in `dir` (it writes the compressed fixtures).
fn python(dir: &Path, script: &str) {
    run("python3", &["-c", script], dir);
}

#[tokio::test]
async fn gzip_and_zip_are_decompressed_and_bombs_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let data = pattern(40 << 10, 11);
    std::fs::write(dir.join("disk.img"), &data).unwrap();
    python(
        dir,
        "import gzip, zipfile\n\
         data = open('disk.img', 'rb').read()\n\
         open('disk.img.gz', 'wb').write(gzip.compress(data))\n\
         with zipfile.ZipFile('disk.zip', 'w', zipfile.ZIP_DEFLATED) as z: z.write('disk.img')\n\
         with zipfile.ZipFile('two.zip', 'w') as z:\n    z.write('disk.img', 'a')\n    z.write('disk.img', 'b')\n\
         open('bomb.gz', 'wb').write(gzip.compress(bytes(1 << 20), 9))\n",
    );
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let bomb = read("bomb.gz");
    assert!(bomb.len() <= 1100, "a 1 KiB file: {}", bomb.len());

    let fixtures = Fixtures::start();
    let s = site(
        fixtures.port,
        r#"
[image_import_opts]
image_import_plugins = ["image_decompression"]

[image_decompression]
max_output_bytes = 65536
"#,
    )
    .await;

    let id = s.create("raw", "bare").await;
    let img = s.direct(&id, &read("disk.img.gz")).await;
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["size"], data.len() as u64);
    assert_eq!(img["checksum"], md5_hex(&data));
    assert_eq!(s.download(&id).await, data);

    let id = s.create("raw", "bare").await;
    let img = s
        .web(&id, &fixtures.serve("disk.zip", &read("disk.zip")))
        .await;
    assert_eq!(img["status"], "active", "{img}");
    assert_eq!(img["os_hash_value"], sha512_hex(&data));
    assert_eq!(s.download(&id).await, data);

    // container_format "compressed": stored as it came.
    let gz = read("disk.img.gz");
    let id = s.create("raw", "compressed").await;
    let img = s.direct(&id, &gz).await;
    assert_eq!(img["checksum"], md5_hex(&gz), "{img}");

    let id = s.create("raw", "bare").await;
    let img = s.direct(&id, &bomb).await;
    s.refused(&id, &img, "exceeds the limit of 65536 bytes")
        .await;

    let id = s.create("raw", "bare").await;
    let img = s.direct(&id, &read("two.zip")).await;
    s.refused(&id, &img, "Archive contains more than one file.")
        .await;
}

#[tokio::test]
async fn plugins_run_in_the_configured_order_and_inject_properties() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (qcow2, expected) = qcow2(dir);
    python(
        dir,
        "import gzip\nopen('img.qcow2.gz', 'wb').write(gzip.compress(open('img.qcow2', 'rb').read()))\n",
    );
    let fixtures = Fixtures::start();
    // noauth callers have no role: ignore_user_roles = ["admin"] does not
    // apply to them (Glance's unauthenticated context has none either).
    let s = site(
        fixtures.port,
        r#"
[image_import_opts]
image_import_plugins = ["image_decompression", "image_conversion", "inject_image_metadata"]

[inject_metadata_properties]
ignore_user_roles = ["admin"]
inject = { hw_rng_model = "virtio", os_glance_import_task = "never" }
"#,
    )
    .await;
    let id = s.create("qcow2", "bare").await;
    let img = s
        .web(
            &id,
            &fixtures.serve(
                "img.qcow2.gz",
                &std::fs::read(dir.join("img.qcow2.gz")).unwrap(),
            ),
        )
        .await;
    assert_converted(&img, &expected);
    assert_eq!(img["hw_rng_model"], "virtio");
    assert_eq!(s.download(&id).await, expected);
    assert!(qcow2.len() < expected.len());
}

/// Copies in progress (`.<id>.tmp-…` files of the file store) in each of `dirs`.
fn in_progress(dirs: &[&Path]) -> usize {
    dirs.iter()
        .filter(|d| {
            std::fs::read_dir(d)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .any(|e| e.file_name().to_string_lossy().contains(".tmp-"))
                })
                .unwrap_or(false)
        })
        .count()
}

/// Copy-image of a 96 MiB image into three file stores: the most copies
/// seen in progress at once, and the time the import took.
async fn copy_into_three(parallel: usize) -> (usize, Duration) {
    let stores: Vec<TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let config = tempfile::tempdir().unwrap();
    let mut toml = format!("default_store = \"s0\"\n[import]\nmax_parallel_stores = {parallel}\n");
    for (i, dir) in stores.iter().enumerate() {
        toml.push_str(&format!(
            "[stores.s{i}]\ndriver = \"file\"\noptions = {{ datadir = {:?} }}\n",
            dir.path().to_str().unwrap()
        ));
    }
    let file = config.path().join("glint.toml");
    std::fs::write(&file, toml).unwrap();
    let glint = Glint::start_with(&[("GLINT_CONFIG", file.to_str().unwrap())]).await;
    let data = pattern(96 << 20, 13);
    let img = glint.create_with_data("big", &data).await;
    let id = img["id"].as_str().unwrap().to_owned();

    let targets: Vec<&Path> = stores[1..].iter().map(TempDir::path).collect();
    let started = Instant::now();
    let r = glint
        .post(&format!("/v2/images/{id}/import"))
        .json(&json!({"method": {"name": "copy-image"}, "stores": ["s1", "s2", "s3"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut most = 0;
    let mut polls = 0u32;
    let took = loop {
        most = most.max(in_progress(&targets));
        polls += 1;
        if polls.is_multiple_of(20) {
            let img = glint.show(&id).await;
            if img.get("os_glance_import_task").is_none() {
                let mut stores: Vec<&str> = img["stores"].as_str().unwrap().split(',').collect();
                stores.sort_unstable();
                assert_eq!(stores, ["s0", "s1", "s2", "s3"], "{img}");
                assert_eq!(img["os_glance_importing_to_stores"], "", "{img}");
                assert_eq!(img["os_glance_failed_import"], "", "{img}");
                break started.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    for dir in &targets {
        assert_eq!(std::fs::read(dir.join(&id)).unwrap().len(), data.len());
    }
    (most, took)
}

#[tokio::test]
async fn copies_into_three_stores_overlap_with_max_parallel_stores() {
    let (sequential_most, sequential) = copy_into_three(1).await;
    let (parallel_most, parallel) = copy_into_three(3).await;
    eprintln!(
        "copy-image of 96 MiB into 3 file stores: {sequential:?} one at a time \
         (at most {sequential_most} in progress), {parallel:?} with max_parallel_stores = 3 \
         (at most {parallel_most} in progress)"
    );
    assert!(sequential_most <= 1, "{sequential_most}");
    assert!(parallel_most >= 2, "{parallel_most}");
}

/// With Keystone: the demo user (member) gets the injected properties, a
/// project administrator (role `admin`, in `ignore_user_roles`) does not.
#[tokio::test]
async fn injection_skips_callers_with_an_ignored_role() {
    use glint_blackbox::keystone::{demo_token, keystone, project_scope, start_glint, token};

    let store = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("glint.toml");
    std::fs::write(
        &file,
        format!(
            r#"[stores.file]
driver = "file"
options = {{ datadir = {:?} }}

[image_import_opts]
image_import_plugins = ["inject_image_metadata"]

[inject_metadata_properties]
ignore_user_roles = ["admin"]
inject = {{ hw_rng_model = "virtio", "trait:CUSTOM_X" = "required" }}
"#,
            store.path().to_str().unwrap()
        ),
    )
    .unwrap();
    let glint = start_glint(&[("GLINT_CONFIG", file.to_str().unwrap())]).await;
    let demo = demo_token().await;
    let admin = token("admin", &keystone().admin_password, project_scope("admin")).await;

    for (who, tok, injected) in [("demo", &demo, true), ("admin", &admin, false)] {
        let r = glint
            .post("/v2/images")
            .header("x-auth-token", tok.as_str())
            .json(&json!({"disk_format": "raw", "container_format": "bare"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{who}");
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = glint
            .put(&format!("/v2/images/{id}/stage"))
            .header("x-auth-token", tok.as_str())
            .header("content-type", "application/octet-stream")
            .body(pattern(4096, 1))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "{who}");
        let r = glint
            .post(&format!("/v2/images/{id}/import"))
            .header("x-auth-token", tok.as_str())
            .json(&json!({"method": {"name": "glance-direct"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED, "{who}");
        let mut img = Value::Null;
        for _ in 0..400 {
            img = glint
                .get(&format!("/v2/images/{id}"))
                .header("x-auth-token", tok.as_str())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if img["status"] == "active" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(img["status"], "active", "{who}: {img}");
        if injected {
            assert_eq!(img["hw_rng_model"], "virtio", "{who}: {img}");
            assert_eq!(img["trait:CUSTOM_X"], "required", "{who}: {img}");
        } else {
            assert!(img.get("hw_rng_model").is_none(), "{who}: {img}");
        }
    }
}

/// `location_strategy = "store_type"`: an image with a copy in an `http`
/// store (added first) and one in a `file` store (copy-image) is read from
/// the file store first when `store_type_preference` says so, and from the
/// http copy when the file copy cannot be read.
#[tokio::test]
async fn store_type_strategy_reads_the_preferred_store_first_and_falls_back() {
    let fixtures = Fixtures::start();
    let data = pattern(1 << 20, 17);
    let uri = fixtures.serve("web.img", &data);
    let s = site(
        fixtures.port,
        r#"
location_strategy = "store_type"

[store_type_location_strategy]
store_type_preference = ["filesystem", "http"]

[stores.web]
driver = "http"

[cache]
enabled = false
"#,
    )
    .await;
    let id = s.create("raw", "bare").await;
    let r = s
        .glint
        .post(&format!("/v2/images/{id}/locations"))
        .json(&json!({"url": uri}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    for _ in 0..400 {
        if s.glint.show(&id).await["status"] == "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.import(
        &id,
        json!({"method": {"name": "copy-image"}, "stores": ["file"]}),
    )
    .await;
    let img = s.settled(&id).await;
    assert_eq!(img["stores"], "web,file", "{img}");

    // The http copy is gone: the file copy, read first, still serves.
    drop(fixtures);
    assert_eq!(s.download(&id).await, data);
    let unreadable = "could not read image data from this location";
    assert!(!s.glint.log().contains(unreadable), "{}", s.glint.log());

    // The file copy is gone too: nothing left to read, after trying both.
    std::fs::remove_file(s.store.path().join(&id)).unwrap();
    let r = s
        .glint
        .get(&format!("/v2/images/{id}/file"))
        .send()
        .await
        .unwrap();
    assert!(!r.status().is_success(), "{}", r.status());
    assert_eq!(
        s.glint.log().matches(unreadable).count(),
        2,
        "{}",
        s.glint.log()
    );
}

/// `[task] task_time_to_live = 0`: an import's task expires as it ends and
/// the reaper removes it.
#[tokio::test]
async fn expired_tasks_are_removed_by_the_reaper() {
    let fixtures = Fixtures::start();
    let s = site(
        fixtures.port,
        "[task]\ntask_time_to_live = 0\n\n[jobs.reaper]\ninterval_secs = 1\n",
    )
    .await;
    let id = s.create("raw", "bare").await;
    let img = s.direct(&id, &pattern(4096, 3)).await;
    assert_eq!(img["status"], "active");
    let mut tasks = Value::Null;
    for _ in 0..200 {
        let r = s
            .glint
            .get(&format!("/v2/images/{id}/tasks"))
            .send()
            .await
            .unwrap();
        tasks = r.json().await.unwrap();
        if tasks["tasks"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(tasks["tasks"], json!([]), "{tasks}");
    assert!(s.glint.log().contains("removed expired tasks"));
}
