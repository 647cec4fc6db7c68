//! The real OpenStack command-line clients against Glint with Keystone
//! authentication, driven as a user drives them: credentials in `OS_*`
//! variables, a password login at Keystone, and the image endpoint pointed
//! at the Glint under test (`OS_IMAGE_URL` for `glance`,
//! `OS_IMAGE_ENDPOINT_OVERRIDE` for openstacksdk), because the catalog's
//! image endpoint belongs to whatever else uses the shared Keystone.
//!
//! For each of python-glanceclient's `glance` and python-openstackclient's
//! `openstack image`: create with data, interoperable import (glance-direct
//! from a file, web-download from a real HTTP server), sharing with a second
//! project whose user accepts with its own credentials and then lists and
//! downloads the image, byte-exact downloads, and deletion that leaves no
//! data behind. Both clients come from PyPI at pinned versions, installed
//! once into a virtualenv under `target/`.
//!
//! Keystone is started with the shared harness's keystone-up.sh when
//! nothing answers on KEYSTONE_PORT (5000).

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use glint_blackbox::keystone::{keystone, keystone_admin, start_glint, token};
use glint_blackbox::{Glint, StatusCode, md5_hex, pattern, target_dir};
use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The client packages, pinned: versions that install on CPython 3.11 and
/// speak to Glance 33. The virtualenv is rebuilt when this list changes.
const CLIENT_PACKAGES: &[&str] = &[
    "python-glanceclient==4.13.0",
    "python-openstackclient==10.5.0",
    "openstacksdk==4.22.0",
    "osc-lib==4.7.0",
    "keystoneauth1==5.18.1",
];

// ---------------------------------------------------------------- Keystone

/// A Keystone user with the member role on one project.
struct User {
    name: String,
    password: String,
    project: String,
    project_id: String,
    /// Set for a user made by the test: its own id, removed with [`User::remove`].
    own_user_id: Option<String>,
}

impl User {
    /// The `demo` user of project `demo`, which keystone-up.sh creates.
    async fn demo() -> User {
        let projects = keystone_admin(Method::GET, "/projects?name=demo", None).await;
        User {
            name: "demo".into(),
            password: "demo-secret".into(),
            project: "demo".into(),
            project_id: projects["projects"][0]["id"].as_str().unwrap().to_owned(),
            own_user_id: None,
        }
    }

    /// A fresh project with a fresh user holding the member role on it.
    async fn create(prefix: &str) -> User {
        let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        let project_id = keystone_admin(
            Method::POST,
            "/projects",
            Some(json!({"project": {"name": name, "domain_id": "default"}})),
        )
        .await["project"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let password = format!("{name}-secret");
        let user_id = keystone_admin(
            Method::POST,
            "/users",
            Some(json!({"user": {"name": name, "password": password, "domain_id": "default"}})),
        )
        .await["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let roles = keystone_admin(Method::GET, "/roles?name=member", None).await;
        let member = roles["roles"][0]["id"].as_str().unwrap();
        keystone_admin(
            Method::PUT,
            &format!("/projects/{project_id}/users/{user_id}/roles/{member}"),
            None,
        )
        .await;
        User {
            project: name.clone(),
            name,
            password,
            project_id,
            own_user_id: Some(user_id),
        }
    }

    /// A project-scoped token, for checks the clients cannot make.
    async fn token(&self) -> String {
        token(
            &self.name,
            &self.password,
            json!({"project": {"id": self.project_id}}),
        )
        .await
    }

    /// Remove the user and project the test made.
    async fn remove(self) {
        if let Some(user_id) = &self.own_user_id {
            keystone_admin(Method::DELETE, &format!("/users/{user_id}"), None).await;
            keystone_admin(
                Method::DELETE,
                &format!("/projects/{}", self.project_id),
                None,
            )
            .await;
        }
    }
}

// ---------------------------------------------------------------- clients

/// A virtualenv holding [`CLIENT_PACKAGES`] from PyPI, built once per target
/// directory (a lock file keeps concurrent test runs from building it twice).
fn clients_venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = target_dir().join("pyvenv-openstack-clients");
        let lock = File::create(target_dir().join("pyvenv-openstack-clients.lock"))
            .expect("create the virtualenv lock file");
        lock.lock().expect("lock the virtualenv");
        let stamp = venv.join("glint-packages.txt");
        let wanted = CLIENT_PACKAGES.join("\n");
        if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
            return venv;
        }
        if venv.exists() {
            std::fs::remove_dir_all(&venv).expect("remove the stale virtualenv");
        }
        let python = std::env::var("GLINT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        succeeded(Command::new(python).args(["-m", "venv"]).arg(&venv));
        succeeded(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(CLIENT_PACKAGES),
        );
        for program in ["glance", "openstack"] {
            assert!(
                venv.join("bin").join(program).exists(),
                "pip did not install the {program} command"
            );
        }
        std::fs::write(&stamp, wanted).expect("record the installed packages");
        venv
    })
}

fn succeeded(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What the client's standard input is.
#[derive(Clone, Copy)]
enum Stdin {
    /// Closed, as in a cron job (`<&-`): both clients read image data from a
    /// standard input that is not a terminal, so anything else would be
    /// taken for data.
    Closed,
    /// A terminal: openstackclient's data-less `image create` fails on a
    /// closed standard input (it finds its descriptor reused), so that one
    /// call runs as it would in an interactive shell.
    Terminal,
}

/// One client command as `user`, with the image endpoint pointed at `glint`.
fn client(program: &str, user: &User, glint: &str, args: &[&str], stdin: Stdin) -> Output {
    let venv = clients_venv();
    let bin = venv.join("bin").join(program);
    let mut cmd = match stdin {
        Stdin::Closed => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", r#"exec "$0" "$@" <&-"#]).arg(&bin);
            cmd
        }
        Stdin::Terminal => {
            let mut cmd = Command::new(venv.join("bin/python"));
            cmd.args([
                "-c",
                "import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)",
            ])
            .arg(&bin)
            .stdin(Stdio::null());
            cmd
        }
    };
    cmd.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OS_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs([
        ("OS_AUTH_URL", keystone().url.as_str()),
        ("OS_IDENTITY_API_VERSION", "3"),
        ("OS_USERNAME", &user.name),
        ("OS_PASSWORD", &user.password),
        ("OS_PROJECT_NAME", &user.project),
        ("OS_USER_DOMAIN_ID", "default"),
        ("OS_PROJECT_DOMAIN_ID", "default"),
        ("OS_IMAGE_API_VERSION", "2"),
        // glance: the image endpoint instead of the catalog's.
        ("OS_IMAGE_URL", glint),
        // openstacksdk: the same, through its per-service override.
        ("OS_IMAGE_ENDPOINT_OVERRIDE", glint),
        ("PYTHONWARNINGS", "ignore"),
    ]);
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The command's standard output; it must have succeeded.
fn ok(what: &str, out: Output) -> String {
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything the command printed; it must have failed.
fn refused(what: &str, out: Output) -> String {
    assert!(
        !out.status.success(),
        "{what} succeeded but must not:\n{}",
        text(&out)
    );
    text(&out)
}

/// A value from the property table `glance` prints (`| name | value |`).
fn field(table: &str, name: &str) -> String {
    table
        .lines()
        .find_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            (cols.len() > 2 && cols[1] == name).then(|| cols[2].to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} in:\n{table}"))
}

/// The ids in the image table `glance image-list` prints.
fn listed_ids(table: &str) -> Vec<String> {
    table
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            (cols.len() > 2 && uuid::Uuid::parse_str(cols[1]).is_ok()).then(|| cols[1].to_owned())
        })
        .collect()
}

fn json_of(what: &str, out: Output) -> Value {
    let stdout = ok(what, out);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{what}: output is not JSON ({e}):\n{stdout}"))
}

fn json_ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a JSON list")
        .iter()
        .map(|i| i["ID"].as_str().expect("an ID column").to_owned())
        .collect()
}

// ---------------------------------------------------------------- the site

/// A Glint with Keystone auth whose web-download filter lets through the
/// fixture server, and that server.
struct Site {
    glint: Glint,
    web: WebServer,
    _config: TempDir,
}

async fn site() -> Site {
    let web = WebServer::start();
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("glint.toml");
    std::fs::write(
        &file,
        format!(
            "[import_filtering]\nallowed_hosts = [\"127.0.0.1\"]\nallowed_ports = [{}]\n",
            web.port
        ),
    )
    .unwrap();
    let glint = start_glint(&[("GLINT_CONFIG", file.to_str().unwrap())]).await;
    Site {
        glint,
        web,
        _config: config,
    }
}

impl Site {
    /// Polls the image (as `token`'s project) until its import is over; it
    /// must have become active.
    async fn imported(&self, token: &str, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self
                .glint
                .get(&format!("/v2/images/{id}"))
                .header("x-auth-token", token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let image: Value = r.json().await.unwrap();
            let importing = image["os_glance_importing_to_stores"]
                .as_str()
                .unwrap_or("");
            if image.get("os_glance_import_task").is_none() && importing.is_empty() {
                assert_eq!(
                    image["status"],
                    "active",
                    "import of {id} did not finish well: {image}\n{}",
                    self.glint.log()
                );
                return image;
            }
            assert!(
                Instant::now() < deadline,
                "import of {id} still running: {image}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The image as `token`'s project sees it over HTTP.
    async fn status_of(&self, token: &str, id: &str) -> StatusCode {
        self.glint
            .get(&format!("/v2/images/{id}"))
            .header("x-auth-token", token)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Nothing left in the default store or the staging area.
    fn assert_no_data_left(&self) {
        assert_eq!(self.glint.stored_files(), Vec::<String>::new());
        let staging = self.glint.data_dir.path().join("staging");
        let staged: Vec<_> = std::fs::read_dir(&staging)
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(staged.is_empty(), "left in staging: {staged:?}");
    }
}

/// `python -m http.server` on a free loopback port, serving a temporary
/// directory: the web-download source.
struct WebServer {
    child: Child,
    dir: TempDir,
    port: u16,
}

impl WebServer {
    fn start() -> WebServer {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        // Owned from here on, so a failed start still stops the process.
        let server = WebServer { child, dir, port };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("http.server did not start on {port}");
    }

    fn serve(&self, name: &str, data: &[u8]) -> String {
        std::fs::write(self.dir.path().join(name), data).unwrap();
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a blocking client call on this multi-threaded runtime's worker.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

// ---------------------------------------------------------------- glance

#[tokio::test(flavor = "multi_thread")]
async fn glance_cli_through_keystone_creates_imports_shares_downloads_and_deletes() {
    tokio::task::spawn_blocking(clients_venv).await.unwrap();
    let s = site().await;
    let url = s.glint.url.clone();
    let owner = User::demo().await;
    let other = User::create("glint-glance-cli").await;
    let owner_token = owner.token().await;
    let dir = tempfile::tempdir().unwrap();
    let glance =
        |user: &User, args: &[&str]| blocking(|| client("glance", user, &url, args, Stdin::Closed));

    // Create with data (`--file`): one call creates and uploads.
    let uploaded = pattern(3 * 1024 * 1024 + 17, 101);
    let file = dir.path().join("uploaded.img");
    std::fs::write(&file, &uploaded).unwrap();
    let shown = ok(
        "glance image-create --file",
        glance(
            &owner,
            &[
                "image-create",
                "--name",
                "glance-uploaded",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--file",
                file.to_str().unwrap(),
            ],
        ),
    );
    let up_id = field(&shown, "id");
    assert_eq!(field(&shown, "status"), "active");
    assert_eq!(field(&shown, "checksum"), md5_hex(&uploaded));
    assert_eq!(field(&shown, "size"), uploaded.len().to_string());
    assert_eq!(field(&shown, "owner"), owner.project_id);

    // Interoperable import, glance-direct: the client stages the file, then
    // asks for the import.
    let staged = pattern(2 * 1024 * 1024 + 5, 102);
    let file = dir.path().join("staged.img");
    std::fs::write(&file, &staged).unwrap();
    let shown = ok(
        "glance image-create-via-import glance-direct",
        glance(
            &owner,
            &[
                "image-create-via-import",
                "--name",
                "glance-direct",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--import-method",
                "glance-direct",
                "--file",
                file.to_str().unwrap(),
            ],
        ),
    );
    let direct_id = field(&shown, "id");
    let image = s.imported(&owner_token, &direct_id).await;
    assert_eq!(image["checksum"], md5_hex(&staged));
    // As Glance: the import inspects the data, and raw data is its own size.
    assert_eq!(image["virtual_size"], staged.len());
    assert_eq!(image["size"], staged.len());

    // Interoperable import, web-download from a real HTTP server.
    let fetched = pattern(1024 * 1024 + 3, 103);
    let uri = s.web.serve("fetched.img", &fetched);
    let shown = ok(
        "glance image-create-via-import web-download",
        glance(
            &owner,
            &[
                "image-create-via-import",
                "--name",
                "glance-web",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--import-method",
                "web-download",
                "--uri",
                &uri,
            ],
        ),
    );
    let web_id = field(&shown, "id");
    let image = s.imported(&owner_token, &web_id).await;
    assert_eq!(image["checksum"], md5_hex(&fetched));
    // As Glance: the import inspects the data, and raw data is its own size.
    assert_eq!(image["virtual_size"], fetched.len());

    // Every image downloads byte for byte.
    for (id, data) in [
        (&up_id, &uploaded),
        (&direct_id, &staged),
        (&web_id, &fetched),
    ] {
        let out = dir.path().join(format!("{id}.out"));
        ok(
            "glance image-download",
            glance(
                &owner,
                &["image-download", "--file", out.to_str().unwrap(), id],
            ),
        );
        assert!(std::fs::read(&out).unwrap() == *data, "{id} differs");
    }

    // Sharing: the owner adds the other project, which sees nothing until it
    // accepts with its own credentials.
    let table = ok(
        "glance member-create",
        glance(&owner, &["member-create", &up_id, &other.project_id]),
    );
    assert!(
        table.contains(&other.project_id) && table.contains("pending"),
        "{table}"
    );
    let listed = ok("glance image-list", glance(&other, &["image-list"]));
    assert!(!listed_ids(&listed).contains(&up_id), "{listed}");
    let listed = ok(
        "glance image-list --member-status pending",
        glance(&other, &["image-list", "--member-status", "pending"]),
    );
    assert_eq!(listed_ids(&listed), vec![up_id.clone()]);
    let table = ok(
        "glance member-update accepted",
        glance(
            &other,
            &["member-update", &up_id, &other.project_id, "accepted"],
        ),
    );
    assert!(table.contains("accepted"), "{table}");
    let listed = ok("glance image-list", glance(&other, &["image-list"]));
    assert_eq!(listed_ids(&listed), vec![up_id.clone()]);
    let table = ok(
        "glance member-list",
        glance(&owner, &["member-list", "--image-id", &up_id]),
    );
    assert!(
        table.contains(&other.project_id) && table.contains("accepted"),
        "{table}"
    );
    let out = dir.path().join("as-member.out");
    ok(
        "glance image-download as the member",
        glance(
            &other,
            &["image-download", "--file", out.to_str().unwrap(), &up_id],
        ),
    );
    assert!(std::fs::read(&out).unwrap() == uploaded);
    // Images it was not offered stay invisible; a member may not delete.
    let said = refused(
        "glance image-show of an image not shared",
        glance(&other, &["image-show", &direct_id]),
    );
    assert!(said.contains("404"), "{said}");
    let said = refused(
        "glance image-delete as a member",
        glance(&other, &["image-delete", &up_id]),
    );
    assert!(said.contains("not permitted"), "{said}");

    // Delete: the images and their data are gone.
    for id in [&up_id, &direct_id, &web_id] {
        ok("glance image-delete", glance(&owner, &["image-delete", id]));
        let said = refused(
            "glance image-show after delete",
            glance(&owner, &["image-show", id]),
        );
        assert!(said.contains("404"), "{said}");
        assert_eq!(s.status_of(&owner_token, id).await, StatusCode::NOT_FOUND);
    }
    let listed = ok("glance image-list", glance(&owner, &["image-list"]));
    assert!(listed_ids(&listed).is_empty(), "{listed}");
    s.assert_no_data_left();
    other.remove().await;
}

// ---------------------------------------------------------------- openstack

#[tokio::test(flavor = "multi_thread")]
async fn openstack_image_commands_through_keystone_create_import_share_download_and_delete() {
    tokio::task::spawn_blocking(clients_venv).await.unwrap();
    let s = site().await;
    let url = s.glint.url.clone();
    let owner = User::demo().await;
    let other = User::create("glint-openstack-cli").await;
    let owner_token = owner.token().await;
    let dir = tempfile::tempdir().unwrap();
    let openstack = |user: &User, args: &[&str]| {
        blocking(|| client("openstack", user, &url, args, Stdin::Closed))
    };

    // Create with data (`--file`): openstacksdk creates, then uploads.
    let uploaded = pattern(3 * 1024 * 1024 + 29, 201);
    let file = dir.path().join("uploaded.img");
    std::fs::write(&file, &uploaded).unwrap();
    let image = json_of(
        "openstack image create --file",
        openstack(
            &owner,
            &[
                "image",
                "create",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--file",
                file.to_str().unwrap(),
                "-f",
                "json",
                "osc-uploaded",
            ],
        ),
    );
    let up_id = image["id"].as_str().unwrap().to_owned();
    assert_eq!(image["status"], "active");
    assert_eq!(image["checksum"], md5_hex(&uploaded));
    assert_eq!(image["size"], uploaded.len());
    assert_eq!(image["owner"], owner.project_id.as_str());

    // `--import`: openstacksdk stages the file and imports it with glance-direct.
    let staged = pattern(2 * 1024 * 1024 + 7, 202);
    let file = dir.path().join("staged.img");
    std::fs::write(&file, &staged).unwrap();
    let image = json_of(
        "openstack image create --import",
        openstack(
            &owner,
            &[
                "image",
                "create",
                "--import",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--file",
                file.to_str().unwrap(),
                "-f",
                "json",
                "osc-imported",
            ],
        ),
    );
    let direct_id = image["id"].as_str().unwrap().to_owned();
    let image = s.imported(&owner_token, &direct_id).await;
    assert_eq!(image["checksum"], md5_hex(&staged));
    // As Glance: the import inspects the data, and raw data is its own size.
    assert_eq!(image["virtual_size"], staged.len());
    assert_eq!(image["size"], staged.len());

    // web-download: an image without data, then `image import`.
    let fetched = pattern(1024 * 1024 + 9, 203);
    let uri = s.web.serve("fetched.img", &fetched);
    let image = json_of(
        "openstack image create (no data)",
        blocking(|| {
            client(
                "openstack",
                &owner,
                &url,
                &[
                    "image",
                    "create",
                    "--disk-format",
                    "raw",
                    "--container-format",
                    "bare",
                    "-f",
                    "json",
                    "osc-web",
                ],
                Stdin::Terminal,
            )
        }),
    );
    assert_eq!(image["status"], "queued");
    let web_id = image["id"].as_str().unwrap().to_owned();
    ok(
        "openstack image import --method web-download",
        openstack(
            &owner,
            &[
                "image",
                "import",
                "--method",
                "web-download",
                "--uri",
                &uri,
                &web_id,
            ],
        ),
    );
    let image = s.imported(&owner_token, &web_id).await;
    assert_eq!(image["checksum"], md5_hex(&fetched));
    // As Glance: the import inspects the data, and raw data is its own size.
    assert_eq!(image["virtual_size"], fetched.len());

    // Every image downloads byte for byte.
    for (id, data) in [
        (&up_id, &uploaded),
        (&direct_id, &staged),
        (&web_id, &fetched),
    ] {
        let out = dir.path().join(format!("{id}.out"));
        ok(
            "openstack image save",
            openstack(
                &owner,
                &["image", "save", "--file", out.to_str().unwrap(), id],
            ),
        );
        assert!(std::fs::read(&out).unwrap() == *data, "{id} differs");
    }

    // Sharing: the owner adds the other project, which sees nothing until it
    // accepts with its own credentials.
    let member = json_of(
        "openstack image add project",
        openstack(
            &owner,
            &[
                "image",
                "add",
                "project",
                "-f",
                "json",
                &up_id,
                &other.project_id,
            ],
        ),
    );
    assert_eq!(member["status"], "pending");
    assert_eq!(member["member_id"], other.project_id.as_str());
    let listed = json_of(
        "openstack image list",
        openstack(&other, &["image", "list", "-f", "json"]),
    );
    assert!(!json_ids(&listed).contains(&up_id), "{listed}");
    let listed = json_of(
        "openstack image list --member-status pending",
        openstack(
            &other,
            &["image", "list", "--member-status", "pending", "-f", "json"],
        ),
    );
    assert_eq!(json_ids(&listed), vec![up_id.clone()]);
    ok(
        "openstack image set --accept",
        openstack(&other, &["image", "set", "--accept", &up_id]),
    );
    let listed = json_of(
        "openstack image list",
        openstack(&other, &["image", "list", "-f", "json"]),
    );
    assert_eq!(json_ids(&listed), vec![up_id.clone()]);
    let members = json_of(
        "openstack image member list",
        openstack(&owner, &["image", "member", "list", "-f", "json", &up_id]),
    );
    assert_eq!(
        members
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["Member ID"].clone(), m["Status"].clone()))
            .collect::<Vec<_>>(),
        vec![(json!(other.project_id), json!("accepted"))],
        "{members}"
    );
    let out = dir.path().join("as-member.out");
    ok(
        "openstack image save as the member",
        openstack(
            &other,
            &["image", "save", "--file", out.to_str().unwrap(), &up_id],
        ),
    );
    assert!(std::fs::read(&out).unwrap() == uploaded);
    // Images it was not offered stay invisible; a member may not delete.
    let said = refused(
        "openstack image show of an image not shared",
        openstack(&other, &["image", "show", &direct_id]),
    );
    assert!(said.contains("No Image found"), "{said}");
    let said = refused(
        "openstack image delete as a member",
        openstack(&other, &["image", "delete", &up_id]),
    );
    assert!(said.contains("403"), "{said}");

    // Delete: the images and their data are gone.
    ok(
        "openstack image delete",
        openstack(&owner, &["image", "delete", &up_id, &direct_id, &web_id]),
    );
    for id in [&up_id, &direct_id, &web_id] {
        let said = refused(
            "openstack image show after delete",
            openstack(&owner, &["image", "show", id]),
        );
        assert!(said.contains("No Image found"), "{said}");
        assert_eq!(s.status_of(&owner_token, id).await, StatusCode::NOT_FOUND);
    }
    let listed = json_of(
        "openstack image list",
        openstack(&owner, &["image", "list", "-f", "json"]),
    );
    assert!(json_ids(&listed).is_empty(), "{listed}");
    s.assert_no_data_left();
    other.remove().await;
}
