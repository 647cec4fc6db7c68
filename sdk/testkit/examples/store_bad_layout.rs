//! A library that claims this SDK's plugin ABI but whose root module has another layout.

const ABI_VERSION: &str = glint_sdk::abi::ABI_VERSION;

include!("common/fake_root_module.rs");
