//! The real python-glanceclient against the real server: create with a file,
//! list, download, compare bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use glint_blackbox::{Glint, md5_hex, pattern, python_venv, target_dir};

/// A virtualenv with python-glanceclient from PyPI.
fn glance_cli() -> PathBuf {
    let glance = python_venv("pyvenv-glanceclient", "python-glanceclient").join("bin/glance");
    assert!(glance.exists(), "pip did not install the glance command");
    glance
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn glance(cli: &Path, g: &Glint, args: &[&str]) -> String {
    run(Command::new(cli)
        .args([
            "--os-image-url",
            &g.url,
            "--os-auth-token",
            "noauth",
            "--os-image-api-version",
            "2",
        ])
        .args(args))
}

#[tokio::test(flavor = "multi_thread")]
async fn glanceclient_create_list_download() {
    let cli = tokio::task::spawn_blocking(glance_cli).await.unwrap();
    let g = Glint::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(3 * 1024 * 1024 + 11, 42);
    let src = dir.path().join("in.img");
    std::fs::write(&src, &data).unwrap();

    let created = tokio::task::block_in_place(|| {
        glance(
            &cli,
            &g,
            &[
                "image-create",
                "--name",
                "from-client",
                "--disk-format",
                "raw",
                "--container-format",
                "bare",
                "--property",
                "purpose=test",
                "--file",
                src.to_str().unwrap(),
            ],
        )
    });
    let id = created
        .lines()
        .find_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            (cols.len() > 2 && cols[1] == "id").then(|| cols[2].to_owned())
        })
        .unwrap_or_else(|| panic!("no id in:\n{created}"));
    assert!(
        created.contains(&md5_hex(&data)),
        "checksum not shown:\n{created}"
    );

    let listed = tokio::task::block_in_place(|| glance(&cli, &g, &["image-list"]));
    assert!(
        listed.contains(&id) && listed.contains("from-client"),
        "{listed}"
    );

    let out = dir.path().join("out.img");
    tokio::task::block_in_place(|| {
        glance(
            &cli,
            &g,
            &["image-download", "--file", out.to_str().unwrap(), &id],
        )
    });
    assert_eq!(std::fs::read(&out).unwrap(), data);

    let shown = g.show(&id).await;
    assert_eq!(shown["purpose"], "test");
    assert_eq!(shown["status"], "active");

    tokio::task::block_in_place(|| glance(&cli, &g, &["image-delete", &id]));
    assert!(g.stored_files().is_empty());
}
