//! `inject_image_metadata`: adds `[inject_metadata_properties] inject` to
//! the image, unless the caller has one of `ignore_user_roles`. As Glance's,
//! it leaves out the properties Glance reserves (`os_glance_*`).

use futures::future::BoxFuture;

use super::{ImportPlugin, PluginError, Staged};
use crate::config::InjectMetadataConfig;

pub(super) struct InjectImageMetadata;

/// The properties to inject for a caller with `roles` (lower-cased).
fn to_inject<'c>(config: &'c InjectMetadataConfig, roles: &[String]) -> Vec<(&'c str, &'c str)> {
    let ignored = roles.iter().any(|role| {
        config
            .ignore_user_roles
            .iter()
            .any(|i| i.trim().eq_ignore_ascii_case(role))
    });
    if ignored {
        return Vec::new();
    }
    config
        .inject
        .iter()
        .filter(|(key, _)| !key.starts_with("os_glance"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

impl ImportPlugin for InjectImageMetadata {
    fn name(&self) -> &'static str {
        "inject_image_metadata"
    }

    fn run<'a>(&'a self, staged: &'a Staged<'a>) -> BoxFuture<'a, Result<(), PluginError>> {
        Box::pin(async move {
            let config = &staged.app.config.inject_metadata_properties;
            let properties = to_inject(config, &staged.caller.roles);
            if properties.is_empty() {
                return Ok(());
            }
            staged
                .modify(|img| {
                    for (key, value) in &properties {
                        img.properties
                            .insert((*key).to_owned(), (*value).to_owned());
                    }
                    Ok(())
                })
                .await
                .map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ignore: &[&str], inject: &[(&str, &str)]) -> InjectMetadataConfig {
        InjectMetadataConfig {
            ignore_user_roles: ignore.iter().map(|s| (*s).to_owned()).collect(),
            inject: inject
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_caller_with_an_ignored_role_gets_nothing() {
        let c = config(&["admin", "Operator"], &[("hw_rng_model", "virtio")]);
        assert!(to_inject(&c, &["member".into(), "admin".into()]).is_empty());
        assert!(to_inject(&c, &["operator".into()]).is_empty());
        assert_eq!(
            to_inject(&c, &["member".into()]),
            [("hw_rng_model", "virtio")]
        );
        assert_eq!(to_inject(&c, &[]), [("hw_rng_model", "virtio")]);
    }

    #[test]
    fn reserved_properties_are_never_injected() {
        let c = config(&[], &[("os_glance_import_task", "x"), ("a", "b")]);
        assert_eq!(to_inject(&c, &[]), [("a", "b")]);
    }
}
