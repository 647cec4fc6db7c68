//! The conformance suite run against the kit's own example plugins: a full in-memory driver and a
//! read-only one, so the suite itself is exercised on more than one implementation.

mod memory {
    glint_testkit::store_conformance_suite!(
        glint_testkit::example_cdylib_path("store_memory"),
        |_: &std::path::Path| serde_json::json!({})
    );
}

mod readonly {
    glint_testkit::store_conformance_suite!(
        glint_testkit::example_cdylib_path("store_readonly"),
        |_: &std::path::Path| serde_json::json!({ "objects": { "hello": "world" } })
    );
}

/// A case the driver lacks capabilities for tells its caller which ones, instead of passing
/// silently; one that ran says so.
mod outcomes {
    use glint_testkit::{Outcome, cases, example_cdylib_path, run_case};

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
