//! The conformance suite run against the kit's own example plugins: a full in-memory driver and a
//! read-only one, so the suite itself is exercised on more than one implementation.

mod memory {
    glint_sdk_testkit::store_conformance_suite!(
        glint_sdk_testkit::example_cdylib_path("store_memory"),
        |_: &std::path::Path| serde_json::json!({})
    );
}

mod readonly {
    glint_sdk_testkit::store_conformance_suite!(
        glint_sdk_testkit::example_cdylib_path("store_readonly"),
        |_: &std::path::Path| serde_json::json!({ "objects": { "hello": "world" } })
    );
}

/// A case the driver lacks capabilities for tells its caller which ones, instead of passing
/// silently; one that ran says so.
mod outcomes {
    use glint_sdk_testkit::{Outcome, cases, example_cdylib_path, run_case};

    #[test]
    fn skipped_cases_name_the_missing_capabilities() {
        let readonly = || example_cdylib_path("store_readonly");
        let config = |_: &std::path::Path| serde_json::json!({});
        assert_eq!(
            run_case(readonly(), config, cases::round_trip_multi_mib),
            Outcome::Skipped {
                missing: vec!["write"]
            }
        );
        assert_eq!(
            run_case(readonly(), config, cases::ranged_reads),
            Outcome::Skipped {
                missing: vec!["write", "ranged_read"]
            }
        );
        let memory = || example_cdylib_path("store_memory");
        assert_eq!(
            run_case(memory(), config, cases::size_matches_put),
            Outcome::Passed
        );
        assert_eq!(
            run_case(memory(), config, cases::missing_capabilities_are_refused),
            Outcome::Skipped { missing: vec![] }
        );
    }
}

/// A skip reaches the output of a plain `cargo test`, where a passing test's captured output does
/// not: this test runs one skipping case of this very binary and reads its standard error.
#[test]
fn a_plain_test_run_shows_skipped_cases() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["readonly::round_trip_multi_mib", "--exact"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stderr.contains(
            "conformance: round_trip_multi_mib SKIPPED: the driver lacks the capability write"
        ),
        "{stderr}"
    );
}
