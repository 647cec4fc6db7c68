//! The admin CLI and the install layout, as an operator meets them: shell
//! completions, `config show` without secrets, `db check` / `db upgrade`,
//! clear start-up errors, `plugins list` from an installed copy, and the
//! systemd unit checked by `systemd-analyze verify`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use glint_blackbox::target_dir;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn glint(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(target_dir().join("glint"))
        .args(args)
        .current_dir(dir)
        .env(
            "GLINT_PLUGINS__PATHS",
            format!("[{:?}]", glint_sdk_testkit::cdylib_path("glint-store-file")),
        )
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run glint")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_are_printed_for_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let out = glint(dir.path(), &["completions", "bash"], &[]);
    assert!(out.status.success());
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("_glint()") && stdout.contains("plugins"),
        "{stdout}"
    );
}

#[test]
fn config_show_is_toml_without_secrets_and_unknown_variables_only_warn() {
    let dir = tempfile::tempdir().unwrap();
    let out = glint(
        dir.path(),
        &["config", "show"],
        &[
            (
                "GLINT_DATABASE__URL",
                "postgres://glint:hunter2@db.example:5432/glint",
            ),
            ("GLINT_STORES__S__DRIVER", "swift"),
            ("GLINT_STORES__S__OPTIONS__KEY", "sekrit-key"),
            ("GLINT_STORES__S__OPTIONS__USER", "glance"),
            ("GLINT_NO_SUCH_SETTING", "1"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("sekrit"),
        "{stdout}"
    );
    let parsed: toml::Table = stdout.parse().unwrap_or_else(|e| panic!("{e}:\n{stdout}"));
    assert_eq!(
        parsed["database"]["url"].as_str(),
        Some("postgres://glint:***@db.example:5432/glint")
    );
    assert_eq!(
        parsed["stores"]["s"]["options"]["key"].as_str(),
        Some("***")
    );
    assert_eq!(
        parsed["stores"]["s"]["options"]["user"].as_str(),
        Some("glance")
    );
    assert!(stderr.contains("GLINT_NO_SUCH_SETTING"), "{stderr}");
}

#[test]
fn db_check_and_upgrade_and_serve_refuses_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let check = |p: &Path| glint(p, &["db", "check", "--data-dir", ".", "--json"], &[]);
    let out = check(p);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["state"], "upgrade_needed");

    let out = glint(p, &["db", "upgrade", "--data-dir", "."], &[]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = check(p);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));

    // A release from the future migrated this database.
    let sql = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES (99990101000000, 'from the future', 1, x'00', 0)";
    let out = Command::new("python3")
        .args(["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()"])
        .arg(p.join("glint.db"))
        .arg(sql)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let out = check(p);
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    let out = glint(
        p,
        &["serve", "--data-dir", ".", "--bind", "127.0.0.1:0"],
        &[],
    );
    assert!(!out.status.success());
    let (stdout, stderr) = text(&out);
    assert!(
        format!("{stdout}{stderr}").contains("newer than this glint knows"),
        "{stdout}{stderr}"
    );
}

#[test]
fn an_unreachable_database_is_named_at_once_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = glint(
        dir.path(),
        &["db", "check"],
        &[(
            "GLINT_DATABASE__URL",
            "postgres://glint:hunter2@127.0.0.1:1/glint",
        )],
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(!out.status.success());
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("cannot connect to the database at 127.0.0.1:1"),
        "{all}"
    );
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn an_installed_copy_finds_its_plugins_without_flags() {
    let prefix = tempfile::tempdir().unwrap();
    let etc = prefix.path().join("etc");
    let out = Command::new("sh")
        .arg(repo_root().join("packaging/install.sh"))
        .arg(prefix.path())
        .arg(target_dir())
        .env("ETC", &etc)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(etc.join("glint.toml").exists());
    let work = tempfile::tempdir().unwrap();
    // No GLINT_PLUGINS__PATHS here: only the layout leads to the plugin.
    let out = Command::new(prefix.path().join("bin/glint"))
        .args(["plugins", "list", "--json"])
        .current_dir(work.path())
        .env("GLINT_STORES__FILE__DRIVER", "file")
        .env(
            "GLINT_STORES__FILE__OPTIONS__DATADIR",
            work.path().join("images"),
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let file = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["driver"] == "file")
        .unwrap_or_else(|| panic!("{v}"));
    assert!(
        file["file"]
            .as_str()
            .unwrap()
            .contains("lib/glint/plugins/libglint_store_file.so"),
        "{file}"
    );
    assert!(file["sdk_version"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(file["stores"][0]["id"], "file");
    assert_eq!(file["stores"][0]["capabilities"]["write"], true, "{file}");
    assert!(v["missing_drivers"].as_array().unwrap().is_empty());
}

#[test]
fn the_systemd_unit_verifies() {
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed: the unit was not verified");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(repo_root().join("packaging/glint.service")).unwrap();
    // verify wants the executable to exist: point it at the one just built.
    let unit = unit.replace(
        "/usr/local/bin/glint",
        target_dir().join("glint").to_str().unwrap(),
    );
    let path = dir.path().join("glint.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(!stderr.contains("Unknown"), "{stderr}");
}
