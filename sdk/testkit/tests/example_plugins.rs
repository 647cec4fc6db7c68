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
