//! One Glint over four kinds of store at once: `file` (the default), `swift` (a real tempauth
//! Swift), `rbd` (a real Ceph cluster) and `vmware` (the vSphere simulator), each through its
//! plugin. An image uploaded to `file` is copied to the three others by a `copy-image` import,
//! read back from each with `?prefer=`, removed store by store, and deleted; what each backend
//! holds is checked through the backend's own interface (Swift's API, the `rbd` command,
//! vcsim's datastore browser, the file directory).

mod backends;

use std::time::Duration;

use backends::{Ceph, Swift, SwiftAccount, Vcsim};
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern};
use serde_json::{Value, json};
use tempfile::TempDir;

/// The stores, in configuration order, with their download weights.
const STORES: [(&str, u32); 4] = [("file", 100), ("swift", 75), ("rbd", 50), ("vmware", 25)];

struct Site {
    glint: Glint,
    file_dir: TempDir,
    swift: &'static Swift,
    container: String,
    ceph: &'static Ceph,
    vcsim: &'static Vcsim,
    vmware_dir: String,
    _config: TempDir,
}

/// TOML for a JSON object of options: strings, numbers, booleans and arrays of them.
fn inline_table(options: &Value) -> String {
    let fields: Vec<String> = options
        .as_object()
        .expect("options are an object")
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect();
    format!("{{ {} }}", fields.join(", "))
}

impl Site {
    /// Starts the three backends (when they are not running) and a Glint over all four stores;
    /// `tag` names this test's Swift container and datastore directory.
    async fn start(tag: &str) -> Site {
        let swift = backends::shared_swift();
        let ceph = backends::ceph();
        let vcsim = backends::vcsim();
        let file_dir = tempfile::tempdir().unwrap();
        let container = backends::container_name(tag);
        let vmware_dir = backends::vmware_dir(tag);
        let options = [
            json!({ "datadir": file_dir.path() }),
            swift.options(&container),
            ceph.options(),
            vcsim.options(&vmware_dir),
        ];
        // No image cache: every download reads a store.
        let mut config = String::from("default_store = \"file\"\n\n[cache]\nenabled = false\n");
        for ((store, weight), options) in STORES.iter().zip(&options) {
            config.push_str(&format!(
                "\n[stores.{store}]\ndriver = \"{store}\"\nweight = {weight}\noptions = {}\n",
                inline_table(options)
            ));
        }
        let config_dir = tempfile::tempdir().unwrap();
        let file = config_dir.path().join("glint.toml");
        std::fs::write(&file, config).unwrap();
        let glint = Glint::start_with(&[
            ("GLINT_CONFIG", file.to_str().unwrap()),
            (
                "GLINT_PLUGINS__PATHS",
                &backends::plugin_paths(&[
                    "glint-store-swift",
                    "glint-store-rbd",
                    "glint-store-vmware",
                ]),
            ),
        ])
        .await;
        Site {
            glint,
            file_dir,
            swift,
            container,
            ceph,
            vcsim,
            vmware_dir,
            _config: config_dir,
        }
    }

    async fn account(&self) -> SwiftAccount {
        self.swift.account().await
    }

    /// Everything each backend holds whose name contains `id` (Swift: the object and its
    /// segments; rbd: the image and any temporary one; vmware and file: files).
    async fn held(&self, store: &str, id: &str) -> Vec<String> {
        let mut names: Vec<String> = match store {
            "file" => std::fs::read_dir(self.file_dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            "swift" => self.account().await.objects(&self.container).await,
            "rbd" => self.ceph.images_of(id),
            "vmware" => self.vcsim.files_in(&self.vmware_dir).await,
            other => panic!("no store {other}"),
        };
        names.retain(|name| name.contains(id));
        names.sort();
        names
    }

    /// The md5 of the copy `store` holds, read through the backend's own interface.
    async fn backend_md5(&self, store: &str, id: &str) -> String {
        match store {
            "file" => md5_hex(&std::fs::read(self.file_dir.path().join(id)).unwrap()),
            "swift" => self.account().await.object_md5(&self.container, id).await,
            "rbd" => self.ceph.image_md5(id),
            "vmware" => {
                self.vcsim
                    .file_md5(&format!("{}/{id}", self.vmware_dir))
                    .await
            }
            other => panic!("no store {other}"),
        }
    }

    async fn upload(&self, data: &[u8]) -> String {
        let img = self.glint.create_with_data("multi", data).await;
        assert_eq!(img["status"], "active");
        assert_eq!(img["stores"], "file");
        img["id"].as_str().unwrap().to_owned()
    }

    /// `copy-image` to every store, waited for until the import task is over.
    async fn copy_to_all_stores(&self, id: &str) -> Value {
        let r = self
            .glint
            .post(&format!("/v2/images/{id}/import"))
            .json(&json!({"method": {"name": "copy-image"}, "all_stores": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::ACCEPTED,
            "{}",
            r.text().await.unwrap()
        );
        for _ in 0..600 {
            let img = self.glint.show(id).await;
            let importing = img["os_glance_importing_to_stores"].as_str().unwrap_or("");
            if img.get("os_glance_import_task").is_none() && importing.is_empty() {
                return img;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "copy-image of {id} did not finish: {}",
            self.glint.show(id).await
        );
    }

    async fn download(&self, id: &str, query: &str) -> Vec<u8> {
        let r = self
            .glint
            .get(&format!("/v2/images/{id}/file{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "download {query}");
        r.bytes().await.unwrap().to_vec()
    }

    /// Lines of Glint's log saying a copy could not be read (so another one was), or that a
    /// download was served from the image cache rather than a store.
    fn fallbacks(&self) -> usize {
        self.glint
            .log()
            .lines()
            .filter(|line| {
                line.contains("could not read image data from this location")
                    || line.contains("serving image data from the cache")
            })
            .count()
    }

    async fn cleanup(&self) {
        self.account().await.purge(&self.container).await;
    }
}

fn stores_of(img: &Value) -> Vec<String> {
    let mut stores: Vec<String> = img["stores"]
        .as_str()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    stores.sort();
    stores
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    names.sort();
    names
}

/// Segment names of a Static Large Object of `size` bytes in 256 KiB segments.
fn swift_names(id: &str, size: usize) -> Vec<String> {
    let segments = size.div_ceil(256 << 10);
    let mut names = vec![id.to_owned()];
    names.extend((1..=segments).map(|n| format!("{id}-{n:05}")));
    names
}

#[tokio::test]
async fn discovery_lists_the_four_stores_with_their_drivers() {
    let site = Site::start("discovery").await;
    let r = site
        .glint
        .get("/v2/info/stores/detail")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let detail: Value = r.json().await.unwrap();
    let stores = detail["stores"].as_array().unwrap();
    let listed: Vec<(&str, &str, u64)> = stores
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["type"].as_str().unwrap(),
                s["weight"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("file", "file", 100),
            ("swift", "swift", 75),
            ("rbd", "rbd", 50),
            ("vmware", "vmware", 25)
        ]
    );
    assert_eq!(stores[0]["default"], "true");
    // Secrets of the stores' options never show.
    let text = detail.to_string();
    assert!(!text.contains(&site.swift.key), "{text}");
    assert!(!text.contains(&site.vcsim.password), "{text}");
    assert!(!site.glint.log().contains(&site.swift.key));
}

#[tokio::test]
async fn copy_image_to_all_stores_reads_back_identically_from_each_and_delete_leaves_nothing() {
    let site = Site::start("all-stores").await;
    let data = pattern((3 << 20) + 12_345, 71);
    let md5 = md5_hex(&data);
    let id = site.upload(&data).await;
    assert_eq!(site.held("file", &id).await, std::slice::from_ref(&id));

    let img = site.copy_to_all_stores(&id).await;
    assert_eq!(img["status"], "active");
    assert_eq!(
        stores_of(&img),
        sorted(&["file", "swift", "rbd", "vmware"]),
        "{img}"
    );
    assert_eq!(img["os_glance_failed_import"], "", "{img}");
    assert_eq!(img["checksum"], md5.as_str());

    // Each backend holds a full, identical copy, as its own interface shows it.
    assert_eq!(site.held("swift", &id).await, swift_names(&id, data.len()));
    assert_eq!(site.held("rbd", &id).await, std::slice::from_ref(&id));
    assert_eq!(site.held("vmware", &id).await, std::slice::from_ref(&id));
    for (store, _) in STORES {
        assert_eq!(site.backend_md5(store, &id).await, md5, "copy in {store}");
    }

    // Each store's copy reads back through Glint, byte for byte, with no fallback.
    for (store, _) in STORES {
        let before = site.fallbacks();
        let got = site.download(&id, &format!("?prefer={store}")).await;
        assert!(got == data, "download preferring {store} differs");
        assert_eq!(site.fallbacks(), before, "{store}: {}", site.glint.log());
    }

    // Deleting the image removes every copy.
    let r = site
        .glint
        .delete(&format!("/v2/images/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for (store, _) in STORES {
        assert!(
            site.held(store, &id).await.is_empty(),
            "{store} still holds {:?}",
            site.held(store, &id).await
        );
    }
    let r = site
        .glint
        .get(&format!("/v2/images/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    site.cleanup().await;
}

#[tokio::test]
async fn each_copy_is_read_from_its_own_store_as_the_others_are_removed() {
    let site = Site::start("one-by-one").await;
    let data = pattern((2 << 20) + 999, 72);
    let id = site.upload(&data).await;
    let img = site.copy_to_all_stores(&id).await;
    assert_eq!(
        stores_of(&img),
        sorted(&["file", "swift", "rbd", "vmware"]),
        "{img}"
    );

    // The lowest weight first, so that the copy read is never the one a download would pick
    // without `prefer`; after each removal the others still serve the image.
    let mut left = vec!["file", "swift", "rbd", "vmware"];
    for store in ["vmware", "rbd", "swift"] {
        let before = site.fallbacks();
        let got = site.download(&id, &format!("?prefer={store}")).await;
        assert!(got == data, "download preferring {store} differs");
        assert_eq!(site.fallbacks(), before, "{store} was not read first");

        let r = site
            .glint
            .delete(&format!("/v2/stores/{store}/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "{store}: {}",
            r.text().await.unwrap()
        );
        assert!(
            site.held(store, &id).await.is_empty(),
            "{store} still holds {:?}",
            site.held(store, &id).await
        );
        left.retain(|s| *s != store);
        let img = site.glint.show(&id).await;
        assert_eq!(img["status"], "active");
        assert_eq!(stores_of(&img), sorted(&left));
        // A preference for a store without a copy only reorders: the others serve it.
        assert!(site.download(&id, &format!("?prefer={store}")).await == data);
        for other in &left {
            assert!(
                !site.held(other, &id).await.is_empty(),
                "{other} lost its copy"
            );
        }
    }

    // The file copy is the last one: it cannot be removed, and it serves the image.
    let r = site
        .glint
        .delete(&format!("/v2/stores/file/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(site.download(&id, "").await == data);
    // A copy can be made again into a store it was removed from.
    let img = site.copy_to_all_stores(&id).await;
    assert_eq!(stores_of(&img), sorted(&["file", "swift", "rbd", "vmware"]));
    assert!(site.download(&id, "?prefer=swift").await == data);

    let r = site
        .glint
        .delete(&format!("/v2/images/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for (store, _) in STORES {
        assert!(site.held(store, &id).await.is_empty(), "{store}");
    }
    site.cleanup().await;
}
