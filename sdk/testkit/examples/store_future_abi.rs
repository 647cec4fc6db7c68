//! A library that claims plugin ABI 2.0, as a plugin built by a future, incompatible SDK would.

const ABI_VERSION: &str = "2.0.0";

include!("common/fake_root_module.rs");
