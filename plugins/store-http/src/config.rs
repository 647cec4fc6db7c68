//! The http store's options (`[stores.<id>.options]`).

use std::fmt;
use std::path::PathBuf;

use glint_sdk::{ErrorKind, StoreError};
use serde::Deserialize;

/// The most redirects `max_redirects` may allow.
const REDIRECTS_LIMIT: usize = 10;
/// The longest `timeout_secs` may be: one hour.
const TIMEOUT_LIMIT: u64 = 3600;

/// Options of an http store.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Seconds to wait for a connection, and then for each read from the server (default 60,
    /// 1 to 3600). It bounds silence, not the length of a download.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Redirects followed per request (default 3, at most 10); one more fails the request.
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// Accept any TLS certificate (default false). For test servers only.
    #[serde(default)]
    pub insecure: bool,
    /// A PEM file of CA certificates trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// User name for HTTP basic authentication; requires `password`.
    pub user: Option<String>,
    /// Password for HTTP basic authentication; requires `user`.
    pub password: Option<String>,
}

fn default_timeout_secs() -> u64 {
    60
}

fn default_max_redirects() -> usize {
    3
}

impl HttpConfig {
    /// The value of each option a configuration may leave out (the driver's description).
    pub fn defaults() -> serde_json::Value {
        serde_json::json!({
            "timeout_secs": default_timeout_secs(),
            "max_redirects": default_max_redirects(),
            "insecure": false,
        })
    }

    /// Parses and checks the options; every error is `ConfigInvalid` naming the option.
    pub fn parse(options: serde_json::Value) -> Result<Self, StoreError> {
        let config: HttpConfig = serde_json::from_value(options)
            .map_err(|err| invalid(format!("invalid http store options: {err}")))?;
        if !(1..=TIMEOUT_LIMIT).contains(&config.timeout_secs) {
            return Err(invalid(format!(
                "option `timeout_secs` must be between 1 and {TIMEOUT_LIMIT}, got {}",
                config.timeout_secs
            )));
        }
        if config.max_redirects > REDIRECTS_LIMIT {
            return Err(invalid(format!(
                "option `max_redirects` must be at most {REDIRECTS_LIMIT}, got {}",
                config.max_redirects
            )));
        }
        if config.insecure && config.ca_file.is_some() {
            return Err(invalid(
                "options `insecure` and `ca_file` exclude each other: `insecure` trusts any certificate"
                    .to_owned(),
            ));
        }
        match (&config.user, &config.password) {
            (Some(_), None) => Err(invalid("option `user` requires `password`".to_owned())),
            (None, Some(_)) => Err(invalid("option `password` requires `user`".to_owned())),
            _ => Ok(config),
        }
    }

    /// The basic-auth credentials, when configured.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        self.user.clone().zip(self.password.clone())
    }
}

/// A `ConfigInvalid` error.
pub fn invalid(message: String) -> StoreError {
    StoreError::new(ErrorKind::ConfigInvalid, message)
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("timeout_secs", &self.timeout_secs)
            .field("max_redirects", &self.max_redirects)
            .field("insecure", &self.insecure)
            .field("ca_file", &self.ca_file)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(options: serde_json::Value) -> String {
        let err = HttpConfig::parse(options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ConfigInvalid);
        err.message
    }

    #[test]
    fn defaults_apply() {
        let config = HttpConfig::parse(json!({})).unwrap();
        assert_eq!(config.timeout_secs, 60);
        assert_eq!(config.max_redirects, 3);
        assert!(!config.insecure);
        assert!(config.ca_file.is_none());
        assert!(config.basic_auth().is_none());
    }

    #[test]
    fn errors_name_the_option() {
        assert!(message(json!({ "timeout": 5 })).contains("`timeout`"));
        assert!(message(json!({ "timeout_secs": 0 })).contains("`timeout_secs`"));
        assert!(message(json!({ "timeout_secs": 3601 })).contains("`timeout_secs`"));
        assert!(message(json!({ "max_redirects": 11 })).contains("`max_redirects`"));
        assert!(message(json!({ "max_redirects": -1 })).contains("invalid value"));
        assert!(message(json!({ "insecure": true, "ca_file": "/ca.pem" })).contains("`ca_file`"));
        assert!(message(json!({ "user": "glance" })).contains("`password`"));
        assert!(message(json!({ "password": "secret" })).contains("`user`"));
    }

    #[test]
    fn debug_hides_the_password() {
        let config = HttpConfig::parse(json!({ "user": "glance", "password": "s3cr3t" })).unwrap();
        let shown = format!("{config:?}");
        assert!(
            shown.contains("glance") && shown.contains("<hidden>"),
            "{shown}"
        );
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(
            config.basic_auth(),
            Some(("glance".to_owned(), "s3cr3t".to_owned()))
        );
    }
}
