//! `glint config defaults`, through the real binary: what it prints is a
//! commented TOML file that, given back as the configuration file, gives
//! the same effective settings (`glint config show`) as no file at all.

use std::path::Path;
use std::process::Command;

/// Runs `glint` in `dir` with no `GLINT_*` variable of the test
/// environment; returns its standard output.
fn glint(dir: &Path, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_glint"));
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("GLINT_") {
            command.env_remove(key);
        }
    }
    let out = command.output().expect("glint runs");
    assert!(
        out.status.success(),
        "glint {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn printed_defaults_load_to_the_built_in_settings() {
    let dir = tempfile::tempdir().unwrap();
    let defaults = glint(dir.path(), &["config", "defaults"]);
    let table: toml::Table = defaults.parse().expect("the defaults are valid TOML");
    assert!(table.contains_key("bind") && table.contains_key("cache"));
    assert!(
        defaults.lines().filter(|l| l.starts_with('#')).count() > 20,
        "the defaults explain themselves in comments"
    );

    std::fs::write(dir.path().join("defaults.toml"), &defaults).unwrap();
    let with_file = glint(dir.path(), &["--config", "defaults.toml", "config", "show"]);
    let without = glint(dir.path(), &["config", "show"]);
    assert_eq!(with_file, without);
    let shown: toml::Table = without.parse().expect("config show prints TOML");
    assert_eq!(shown["bind"].as_str(), Some("127.0.0.1:9292"));
    assert_eq!(shown["default_store"].as_str(), Some("file"));
}
