//! Clients generated from `openapi/glint.json`, and a fuzzer reading it, against the real
//! server: the generated Python client runs a full flow (the Rust client's flow is in
//! `clients/rust/tests`), the checked-in Python client is what the pinned generator makes of
//! the checked-in spec, and schemathesis finds no answer outside the spec and no server error.

use std::path::{Path, PathBuf};
use std::process::Command;

use glint_blackbox::{Glint, repo_root, target_dir};

/// The generator and the fuzzer, pinned, in a virtualenv made once per target dir.
const TOOLS: &[&str] = &[
    "openapi-python-client==0.29.1",
    "ruff==0.17.6",
    "schemathesis==4.32.5",
    "httpx==0.28.1",
    "attrs",
    "python-dateutil",
];

fn venv() -> PathBuf {
    let venv = target_dir().join("pyvenv-openapi");
    let marker = venv.join(".installed");
    let wanted = TOOLS.join(" ");
    if std::fs::read_to_string(&marker).is_ok_and(|s| s == wanted) {
        return venv;
    }
    let python = std::env::var("GLINT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(python).args(["-m", "venv"]).arg(&venv));
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(TOOLS));
    std::fs::write(&marker, wanted).unwrap();
    venv
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

fn with_venv(cmd: &mut Command, venv: &Path) {
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", venv.join("bin").display()));
}

/// Files under `dir`, relative, with their contents.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if matches!(name.as_str(), "__pycache__" | ".ruff_cache") || name.ends_with(".egg-info")
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn checked_in_python_client_is_current() {
    let venv = venv();
    let python = repo_root().join("clients/python");
    let fresh = tempfile::tempdir().unwrap();
    let out = fresh.path().join("glint-client");
    let mut cmd = Command::new(python.join("generate.sh"));
    cmd.arg(&out);
    with_venv(&mut cmd, &venv);
    run(&mut cmd);
    let (want, have) = (tree(&out), tree(&python.join("glint-client")));
    let names = |t: &[(PathBuf, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    let (have_names, want_names) = (names(&have), names(&want));
    let extra: Vec<_> = have_names
        .iter()
        .filter(|p| !want_names.contains(p))
        .collect();
    let missing: Vec<_> = want_names
        .iter()
        .filter(|p| !have_names.contains(p))
        .collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "clients/python/glint-client is stale (extra {extra:?}, missing {missing:?}): run clients/python/generate.sh"
    );
    for ((path, a), (_, b)) in have.iter().zip(&want) {
        assert!(
            a == b,
            "clients/python/glint-client/{} is stale: run clients/python/generate.sh",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_client_full_flow() {
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let g = Glint::start().await;
    let python = repo_root().join("clients/python");
    let out = tokio::task::block_in_place(|| {
        let mut cmd = Command::new(venv.join("bin/python"));
        cmd.arg(python.join("tests/flow.py")).arg(&g.url).env(
            "PYTHONPATH",
            format!(
                "{}:{}",
                python.join("glint-client").display(),
                python.display()
            ),
        );
        run(&mut cmd)
    });
    assert!(out.contains("python client flow: ok"), "{out}\n{}", g.log());
}

/// Schemathesis against the served document: every phase (stateful included), bounded in
/// time; any answer outside the spec or any 5xx fails.
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing() {
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let g = Glint::start().await;
    let report = tempfile::tempdir().unwrap();
    let (status, stdout) = tokio::task::block_in_place(|| {
        let out = Command::new(venv.join("bin/schemathesis"))
            // How to write Glance's JSON-patch media types.
            .env("PYTHONPATH", repo_root().join("tests/schemathesis"))
            .env("SCHEMATHESIS_HOOKS", "hooks")
            // Its cache directory goes with the report, not into the repository.
            .current_dir(report.path())
            .arg("run")
            .arg(g.url("/openapi.json"))
            .args(["--url", &g.url])
            .args(["--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance"])
            .args(["--phases", "examples,fuzzing,stateful"])
            .args(["--max-examples", "8", "--max-time", "150"])
            .args(["--header", "X-Auth-Token: any", "--header", "Accept: application/json"])
            .args(["--generation-deterministic", "--no-shrink"])
            .arg("--report-dir")
            .arg(report.path())
            .output()
            .expect("run schemathesis");
        (
            out.status,
            format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    });
    println!("{stdout}");
    assert!(
        status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        g.log()
    );
}

/// The `/docs` page can authorize with a token (the spec's security scheme), and "Try it
/// out" on a list operation, which sends the token, `Accept: application/json` and no
/// parameter, gets the list.
#[tokio::test(flavor = "multi_thread")]
async fn docs_ui_authorizes_and_lists() {
    let g = Glint::start().await;
    let page = g.get("/docs").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("swagger-ui") && page.contains("\"keystoneToken\""));
    assert!(page.contains("\"X-Auth-Token\""));
    let spec: serde_json::Value = g
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut tried = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let id = op["operationId"].as_str().unwrap();
        if !id.starts_with("list") || path.contains('{') {
            continue;
        }
        let resp = g
            .client
            .get(g.url(path))
            .header("X-Auth-Token", "from-the-authorize-dialog")
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let declared = &op["responses"][status.to_string()];
        assert!(
            (200..400).contains(&status) && declared.is_object(),
            "{id}: {status}"
        );
        tried += 1;
    }
    assert!(tried >= 8, "only {tried} list operations");
}
