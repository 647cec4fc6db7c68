//! A library that claims store plugin ABI 1.4 when the host speaks 1.3, as a store plugin built by
//! a newer SDK minor would: it may rely on host entry points this host lacks.

const ABI_VERSION: &str = "1.4.0";

include!("common/fake_root_module.rs");
