//! Layering: the built-in defaults, the TOML file, the environment, the flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;

use super::{Config, DEFAULTS_TOML};

/// Values given on the command line; they override everything else.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

// figment's own error type is large; configuration loads once, at start-up.
#[allow(clippy::result_large_err)]
impl Config {
    /// Layer defaults, the optional TOML file, the environment and flags.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Self, figment::Error> {
        let mut figment = Figment::from(Toml::string(DEFAULTS_TOML));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        // GLINT_LOG and GLINT_CONFIG are read elsewhere; GLINT_TEST_*, GLINT_SHARED
        // and GLINT_HARNESS_* belong to the test suites and their tools.
        let ours = |key: &str| {
            let key = key.to_ascii_lowercase();
            key != "log"
                && key != "config"
                && key != "shared"
                && !key.starts_with("test_")
                && !key.starts_with("harness_")
        };
        // A variable naming no setting (a typo, or one from another release)
        // is left out with a warning rather than stopping the service.
        let known = serde_json::to_value(Config::default()).unwrap_or_default();
        let mut unknown = Vec::new();
        for (name, _) in std::env::vars() {
            if let Some(key) = name.strip_prefix("GLINT_")
                && ours(key)
                && !names_a_setting(&known, key)
            {
                unknown.push(name);
            }
        }
        let env = Env::prefixed("GLINT_")
            .split("__")
            .filter(move |key| ours(key.as_str()) && names_a_setting(&known, key.as_str()));
        let mut config = figment
            .merge(env)
            .merge(Serialized::globals(overrides))
            .extract::<Config>()?;
        config.store_order = file.map(stores_in_file_order).unwrap_or_default();
        config.warnings = unknown
            .into_iter()
            .map(|name| format!("ignoring the environment variable {name}: it names no setting"))
            .collect();
        config.finish()
    }
}

/// Whether `key` (`API__LIMIT_MAX`, figment's split form `api.limit_max` too)
/// names a setting of `defaults`: a table without entries (`stores`) or an
/// unset optional table (`auth.keystone`) takes any key below it.
fn names_a_setting(defaults: &serde_json::Value, key: &str) -> bool {
    let mut node = defaults;
    let lower = key.to_ascii_lowercase();
    for part in lower.split("__").flat_map(|p| p.split('.')) {
        match node {
            serde_json::Value::Object(map) if map.is_empty() => return true,
            serde_json::Value::Null => return true,
            serde_json::Value::Object(map) => match map.get(part) {
                Some(next) => node = next,
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

/// The `[stores.*]` ids of a TOML file in the order it lists them; empty when
/// the file cannot be read (figment reports that error itself).
fn stores_in_file_order(file: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    match table.get("stores") {
        Some(toml::Value::Table(stores)) => stores.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
// figment::Jail's closures return figment's (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use crate::config::AuthStrategy;

    #[test]
    fn file_env_and_flags_layer_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "glint.toml",
                r#"
                bind = "127.0.0.1:1000"
                default_store = "b"
                [stores.a]
                driver = "file"
                [stores.b]
                driver = "file"
                options = { datadir = "/tmp/b" }
                "#,
            )?;
            jail.set_env("GLINT_API__API_LIMIT_MAX", "50");
            jail.set_env("GLINT_BIND", "127.0.0.1:2000");
            jail.set_env("GLINT_LOG", "debug");
            jail.set_env("GLINT_TEST_POSTGRES_URL", "postgres://elsewhere");
            let c = Config::load(
                Some(Path::new("glint.toml")),
                Overrides {
                    data_dir: Some("/srv".into()),
                    bind: None,
                },
            )
            .unwrap();
            assert_eq!(c.bind.port(), 2000);
            assert_eq!(c.api.api_limit_max, 50);
            assert_eq!(c.default_store(), "b");
            assert_eq!(c.data_dir, PathBuf::from("/srv"));
            assert_eq!(c.store_order, ["a", "b"]);
            let c = Config::load(
                Some(Path::new("glint.toml")),
                Overrides {
                    bind: Some("127.0.0.1:3000".parse().unwrap()),
                    data_dir: None,
                },
            )
            .unwrap();
            assert_eq!(c.bind.port(), 3000);
            Ok(())
        });
    }

    #[test]
    fn an_unknown_variable_is_a_warning() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GLINT_API__NO_SUCH_THING", "1");
            jail.set_env("GLINT_NOPE", "1");
            jail.set_env("GLINT_API__API_LIMIT_MAX", "7");
            jail.set_env("GLINT_STORES__X__DRIVER", "file");
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.api.api_limit_max, 7);
            assert_eq!(c.stores["x"].driver, "file");
            assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
            assert!(c.warnings.iter().any(|w| w.contains("GLINT_NOPE")));
            Ok(())
        });
    }

    #[test]
    fn stores_keep_the_file_order_and_the_first_is_the_default() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "glint.toml",
                "[stores.slow]\ndriver = \"file\"\n[stores.fast]\ndriver = \"file\"\n",
            )?;
            jail.set_env("GLINT_STORES__ENV__DRIVER", "http");
            let c = Config::load(Some(Path::new("glint.toml")), Overrides::default()).unwrap();
            assert_eq!(c.store_order, ["slow", "fast", "env"]);
            assert_eq!(c.default_store(), "slow");
            Ok(())
        });
    }

    #[test]
    fn keystone_settings_come_from_the_environment_and_hide_the_password() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GLINT_AUTH__STRATEGY", "keystone");
            jail.set_env("GLINT_AUTH__KEYSTONE__AUTH_URL", "http://ks:5000/v3/");
            jail.set_env("GLINT_AUTH__KEYSTONE__USERNAME", "glance");
            jail.set_env("GLINT_AUTH__KEYSTONE__PASSWORD", "hunter2");
            jail.set_env("GLINT_AUTH__KEYSTONE__PROJECT_NAME", "service");
            let c = Config::load(None, Overrides::default()).unwrap();
            assert_eq!(c.auth.strategy, AuthStrategy::Keystone);
            let ks = c.auth.keystone.as_ref().unwrap();
            assert_eq!(ks.password.expose(), "hunter2");
            assert_eq!(ks.user_domain_name, "Default");
            assert_eq!(ks.token_cache_seconds, 300);
            assert_eq!(ks.service_token_roles, ["service"]);
            assert_eq!(ks.www_authenticate_uri(), "http://ks:5000");
            assert!(!format!("{c:?}").contains("hunter2"));
            assert!(!serde_json::to_string(&c).unwrap().contains("hunter2"));
            Ok(())
        });
    }
}
