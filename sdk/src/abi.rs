//! The plugin ABI version and the rule for accepting a plugin.
//!
//! The ABI version is not the crate version: it changes only when the boundary changes.
//! - major: bumped by any change an older host or plugin cannot cope with (a changed type, a
//!   removed or reordered entry point). Majors must be equal.
//! - minor: bumped when entry points or trait-object methods are appended. A plugin's minor must not
//!   exceed the host's: a plugin may rely on everything its SDK offers, which an older host lacks,
//!   while a newer host reads an older plugin's shorter prefix and treats the rest as absent.

use abi_stable::sabi_types::VersionNumber;

/// The store plugin ABI version of this SDK, `major.minor.0`.
///
/// - 1.0: `put`, `get`, `delete`, `size`.
/// - 1.1: the caller's context (`put_as`, `get_as`, `delete_as`, `size_as`) and `set_acls`, with
///   the capability bits saying which a driver has.
/// - 1.2: `describe` in the root module: the driver's name, location URL schemes and option
///   defaults, before any store is opened.
/// - 1.3: `open_ext` in the root module, whose store object carries `list` (capability bit 7);
///   `describe` may declare the options that are secrets.
pub const ABI_VERSION: &str = "1.3.0";

/// The metadef provider plugin ABI version of this SDK, `major.minor.0`. Metadef plugins export
/// their own root module, so this version moves independently of the store plugin's: a change to
/// one interface never refuses plugins of the other. The types both share (errors, the logger) can
/// only change with a major bump of both.
pub const METADEF_ABI_VERSION: &str = "1.0.0";

/// Whether a host speaking ABI `host` accepts a plugin built for ABI `plugin`.
pub fn is_compatible(plugin: VersionNumber, host: VersionNumber) -> bool {
    plugin.major == host.major && plugin.minor <= host.minor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32) -> VersionNumber {
        VersionNumber {
            major,
            minor,
            patch: 0,
        }
    }

    #[test]
    fn majors_must_match_and_plugin_minor_may_not_exceed_host() {
        assert!(is_compatible(v(1, 0), v(1, 0)));
        assert!(is_compatible(v(1, 0), v(1, 3)), "older plugin, newer host");
        assert!(!is_compatible(v(1, 4), v(1, 3)), "newer plugin, older host");
        assert!(!is_compatible(v(2, 0), v(1, 9)));
        assert!(!is_compatible(v(0, 9), v(1, 0)));
    }

    #[test]
    fn abi_version_parses() {
        for version in [ABI_VERSION, METADEF_ABI_VERSION] {
            let parsed = abi_stable::sabi_types::VersionStrings::new(version)
                .parsed()
                .unwrap();
            assert_eq!(parsed.patch, 0, "the patch number carries no meaning");
        }
    }
}
