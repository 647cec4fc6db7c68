//! `glint metadefs load/export`: the real binary loads the bundled
//! definitions into a data directory, and `glint serve` on that directory
//! serves them as Glance does after `glance-manage db load_metadefs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use glint_blackbox::{Glint, StatusCode, target_dir};
use serde_json::Value;

const BUNDLED_COUNT: usize = 32;

fn bundled_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/metadefs");
    assert!(
        dir.is_dir(),
        "the bundled definitions are missing: expected {} (shared/ beside the clone)",
        dir.display()
    );
    dir
}

fn glint(data_dir: &Path, args: &[&str], path: &Path) -> Output {
    Command::new(target_dir().join("glint"))
        .arg("metadefs")
        .args(args)
        .arg(path)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run glint metadefs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn get(g: &Glint, path: &str) -> Value {
    let r = g.get(path).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.expect("json")
}

#[tokio::test]
async fn loaded_definitions_are_served_and_exported() {
    let data_dir = tempfile::tempdir().unwrap();
    let out = glint(data_dir.path(), &["load"], &bundled_dir());
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("{BUNDLED_COUNT} loaded, 0 skipped, 0 failed")),
        "{stdout}"
    );
    // Loading again without --merge changes nothing.
    let again = glint(data_dir.path(), &["load"], &bundled_dir());
    assert!(again.status.success());
    assert!(text(&again.stdout).contains(&format!("0 loaded, {BUNDLED_COUNT} skipped, 0 failed")));

    let g = Glint::start_in(data_dir).await;
    let list = get(&g, "/v2/metadefs/namespaces?limit=100").await;
    let names: Vec<&str> = list["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ns| ns["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), BUNDLED_COUNT, "{names:?}");
    assert!(names.contains(&"OS::Compute::Hypervisor"));

    let ns = get(&g, "/v2/metadefs/namespaces/OS::Compute::Hypervisor").await;
    assert_eq!(ns["display_name"], "Hypervisor Selection");
    assert_eq!(ns["visibility"], "public");
    assert_eq!(ns["protected"], true);
    assert_eq!(ns["owner"], "admin");
    assert_eq!(
        ns["resource_type_associations"][0]["name"],
        "OS::Glance::Image"
    );
    let hypervisor_type = &ns["properties"]["hypervisor_type"];
    assert_eq!(hypervisor_type["title"], "Hypervisor Type");
    assert!(
        hypervisor_type["enum"]
            .as_array()
            .unwrap()
            .contains(&"kvm".into())
    );
    assert_eq!(ns["properties"]["vm_mode"]["type"], "string");
    // What a load made was never updated: Glance leaves `updated_at` null and out of its answers.
    assert!(ns["created_at"].is_string());
    assert!(ns.get("updated_at").is_none(), "{ns}");
    assert!(
        ns["resource_type_associations"][0]
            .get("updated_at")
            .is_none()
    );
    let listed = &list["namespaces"][0];
    assert!(listed.get("updated_at").is_none(), "{listed}");

    let objects = get(&g, "/v2/metadefs/namespaces/OS::Software::DBMS/objects").await;
    assert_eq!(objects["objects"].as_array().unwrap().len(), 12);
    assert!(objects["objects"][0].get("updated_at").is_none());
    // Glance shows a default as text (`"default": 8` in the file reads "8"); the export below
    // keeps the number.
    let filter = get(
        &g,
        "/v2/metadefs/namespaces/OS::Compute::AggregateIoOpsFilter",
    )
    .await;
    assert_eq!(filter["properties"]["max_io_ops_per_host"]["default"], "8");
    let types = get(&g, "/v2/metadefs/resource_types").await;
    assert!(
        types["resource_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "OS::Nova::Flavor")
    );
    assert!(types["resource_types"][0].get("updated_at").is_none());

    // A change through the API sets it.
    let r = g
        .put("/v2/metadefs/namespaces/OS::Compute::Hypervisor")
        .json(&serde_json::json!({
            "namespace": "OS::Compute::Hypervisor",
            "display_name": "Hypervisor Selection",
            "visibility": "public",
            "protected": true,
            "owner": "admin",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let updated = get(&g, "/v2/metadefs/namespaces/OS::Compute::Hypervisor").await;
    assert!(updated["updated_at"].is_string(), "{updated}");

    let exported = tempfile::tempdir().unwrap();
    let out = glint(g.data_dir.path(), &["export"], exported.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = exported.path().join("OS::Compute::Hypervisor.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(doc["properties"], ns["properties"]);
    let file = exported
        .path()
        .join("OS::Compute::AggregateIoOpsFilter.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(doc["properties"]["max_io_ops_per_host"]["default"], 8);
    assert_eq!(
        std::fs::read_dir(exported.path()).unwrap().count(),
        BUNDLED_COUNT
    );
}

#[tokio::test]
async fn a_bad_file_is_named_and_fails_the_command() {
    let data_dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    std::fs::write(
        files.path().join("good.json"),
        r#"{"namespace": "OS::Good"}"#,
    )
    .unwrap();
    std::fs::write(
        files.path().join("bad.json"),
        r#"{"namespace": "OS::Bad", "visibility": "shared"}"#,
    )
    .unwrap();

    let out = glint(data_dir.path(), &["load"], files.path());
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("bad.json") && stderr.contains("'shared' is not one of"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).contains("1 loaded, 0 skipped, 1 failed"),
        "{}",
        text(&out.stdout)
    );

    // --prefer-new and --overwrite only make sense with --merge.
    let out = glint(data_dir.path(), &["load", "--overwrite"], files.path());
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--merge"));

    let g = Glint::start_in(data_dir).await;
    let r = g
        .get("/v2/metadefs/namespaces/OS::Bad")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    get(&g, "/v2/metadefs/namespaces/OS::Good").await;
}
