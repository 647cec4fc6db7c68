//! What is derived from the merged settings, and the checks they must pass.

use super::{AuthStrategy, Config, StoreConfig};

// figment's own error type is large; configuration loads once, at start-up.
#[allow(clippy::result_large_err)]
impl Config {
    /// Fill in what depends on other settings.
    pub(super) fn finish(mut self) -> Result<Self, figment::Error> {
        // Stores and the database see one absolute directory, whatever the
        // working directory of later code (plugins require absolute paths).
        self.data_dir = std::path::absolute(&self.data_dir).map_err(|e| {
            figment::Error::from(format!("data_dir {}: {e}", self.data_dir.display()))
        })?;
        if self.stores.is_empty() {
            self.stores.insert(
                "file".into(),
                StoreConfig {
                    driver: "file".into(),
                    description: Some("Local filesystem store".into()),
                    weight: 0,
                    options: serde_json::json!({ "datadir": self.data_dir.join("images") }),
                    timeout_secs: super::sections::default_store_timeout(),
                },
            );
        }
        self.store_order.retain(|id| self.stores.contains_key(id));
        for id in self.stores.keys() {
            if !self.store_order.contains(id) {
                self.store_order.push(id.clone());
            }
        }
        if let Some(bad) = self.stores.keys().find(|id| id.starts_with("os_glance_")) {
            return Err(figment::Error::from(format!(
                "store id '{bad}' is reserved: ids starting with os_glance_ are not allowed"
            )));
        }
        match &self.default_store {
            Some(id) if !self.stores.contains_key(id) => {
                return Err(figment::Error::from(format!(
                    "default_store '{id}' is not one of the configured stores"
                )));
            }
            Some(_) => {}
            None => self.default_store = self.store_order.first().cloned(),
        }
        if self.auth.strategy == AuthStrategy::Keystone && self.auth.keystone.is_none() {
            return Err(figment::Error::from(
                "auth.strategy = \"keystone\" needs an [auth.keystone] table".to_string(),
            ));
        }
        if self.import.max_parallel_stores == 0 {
            return Err(figment::Error::from(
                "import.max_parallel_stores must be at least 1".to_string(),
            ));
        }
        let replicate = &self.jobs.replicate;
        if replicate.enabled && (replicate.source.is_empty() || replicate.target.is_empty()) {
            return Err(figment::Error::from(
                "jobs.replicate.enabled needs jobs.replicate.source and jobs.replicate.target"
                    .to_string(),
            ));
        }
        for (side, auth) in [
            ("source_auth", &replicate.source_auth),
            ("target_auth", &replicate.target_auth),
        ] {
            if let Some(auth) = auth {
                auth.check()
                    .map_err(|e| figment::Error::from(format!("jobs.replicate.{side}: {e}")))?;
            }
        }
        if let Some(url) = &self.worker_self_reference_url {
            let parsed = reqwest::Url::parse(url).ok();
            if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
                return Err(figment::Error::from(format!(
                    "worker_self_reference_url {url:?} is not an http(s) URL"
                )));
            }
        }
        if self.cache.prefetch_workers == 0 || self.cache.prune_interval_secs == 0 {
            return Err(figment::Error::from(
                "cache.prefetch_workers and cache.prune_interval_secs must be positive".to_string(),
            ));
        }
        if self.api.api_limit_max == 0 || self.api.limit_param_default == 0 {
            return Err(figment::Error::from(
                "api.api_limit_max and api.limit_param_default must be positive".to_string(),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
// figment::Jail's closures return figment's (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Overrides;

    #[test]
    fn defaults_give_one_file_store_under_the_data_dir() {
        let c = Config::default().finish().unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:9292");
        assert_eq!(c.default_store(), "file");
        // Relative to the working directory, made absolute (other tests move it: compare shapes).
        assert!(c.data_dir.is_absolute() && c.data_dir.ends_with("data"));
        let images = c.data_dir.join("images");
        assert_eq!(
            c.stores["file"].options["datadir"],
            images.to_str().unwrap()
        );
        assert!(
            c.database_url()
                .starts_with(&format!("sqlite://{}/glint.db", c.data_dir.display()))
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "default_store = \"nope\"")?;
            assert!(Config::load(Some(Path::new("a.toml")), Overrides::default()).is_err());
            jail.create_file("b.toml", "[stores.os_glance_staging]\ndriver = \"file\"")?;
            assert!(Config::load(Some(Path::new("b.toml")), Overrides::default()).is_err());
            jail.create_file("d.toml", "[auth]\nstrategy = \"keystone\"")?;
            assert!(Config::load(Some(Path::new("d.toml")), Overrides::default()).is_err());
            jail.create_file("e.toml", "worker_self_reference_url = \"api1:9292\"")?;
            assert!(Config::load(Some(Path::new("e.toml")), Overrides::default()).is_err());
            jail.create_file("c.toml", "unknown_key = 1")?;
            assert!(Config::load(Some(Path::new("c.toml")), Overrides::default()).is_err());
            Ok(())
        });
    }
}
