//! A library that claims store plugin ABI 1.0, which the host accepts, but whose root module has
//! another layout: its refusal must name 1.0 as the plugin's version, not the host's.

const ABI_VERSION: &str = "1.0.0";

include!("common/fake_root_module.rs");
