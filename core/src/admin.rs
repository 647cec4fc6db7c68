//! The admin subcommands that are more than a call: `config show`,
//! `plugins list`, `db check` / `db upgrade`. `main.rs` parses and dispatches.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::db::Database;

/// What replaces a secret in `glint config show`.
const REDACTED: &str = "***";

/// The effective configuration as TOML, secrets replaced by `***`.
///
/// A store's options are redacted as its driver's plugin declares (store plugin ABI 1.3,
/// `DriverDescription::secret_options`); only for a driver that declares nothing (an older
/// plugin, or none found) are they judged by their names, like the server's own settings.
pub fn config_show(config: &Config) -> anyhow::Result<String> {
    let plugins = crate::store::load_plugins(&config.plugin_dirs(), &config.plugins.paths);
    let declared = |driver: &str| {
        plugins
            .get(driver)
            .and_then(|plugin| plugin.description())
            .and_then(|description| description.secret_options.clone())
    };
    let mut value = serde_json::to_value(config)?;
    let stores = value.as_object_mut().and_then(|map| map.remove("stores"));
    redact(&mut value, "");
    if let Some(Value::Object(mut stores)) = stores {
        for (id, store) in stores.iter_mut() {
            let secrets = config.stores.get(id).and_then(|s| declared(&s.driver));
            match (secrets, store.get_mut("options")) {
                (Some(secrets), Some(Value::Object(options))) => {
                    redact_declared(options, &secrets);
                    scrub_urls(store);
                }
                _ => redact(store, ""),
            }
        }
        value["stores"] = Value::Object(stores);
    }
    let value = without_nulls(value);
    let table: toml::Table = serde_json::from_value(value)?;
    Ok(toml::to_string(&table)?)
}

/// A setting whose name says it holds a credential.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "key"]
        .iter()
        .any(|word| name.contains(word))
        // Names that only mention keys without holding one.
        && !matches!(name.as_str(), "key_file" | "token_cache_seconds")
        && !name.ends_with("_roles")
        && !name.ends_with("_required")
}

/// Replaces the options named in `secrets` (the plugin's word, not a guess from names).
fn redact_declared(options: &mut Map<String, Value>, secrets: &[String]) {
    for (key, value) in options.iter_mut() {
        if secrets.contains(key) {
            *value = Value::String(REDACTED.to_owned());
        }
    }
}

/// Passwords inside URLs, wherever they are.
fn scrub_urls(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(scrub_urls),
        Value::Array(items) => items.iter_mut().for_each(scrub_urls),
        Value::String(s) => {
            if let Some(clean) = url_without_password(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

fn redact(value: &mut Value, name: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                redact(v, key);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, name)),
        Value::String(s) if is_secret_name(name) => *s = REDACTED.to_owned(),
        Value::String(s) => {
            if let Some(clean) = url_without_password(s) {
                *s = clean;
            }
        }
        Value::Number(_) | Value::Bool(_) if is_secret_name(name) => {
            *value = Value::String(REDACTED.to_owned());
        }
        _ => {}
    }
}

/// `scheme://user:***@host/...` for a URL that carries a password.
fn url_without_password(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host) = authority.rsplit_once('@')?;
    let (user, _password) = userinfo.split_once(':')?;
    Some(format!("{scheme}://{user}:{REDACTED}@{host}{tail}"))
}

/// TOML has no null: an unset setting is left out.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// `glint plugins list`: each store plugin found, the glint-sdk it was built
/// with, and the configured stores that use it (opened, for their capabilities);
/// the files refused, with why; where it looked. Fails when a configured store's
/// driver has no plugin.
pub fn plugins_list(config: &Config, as_json: bool) -> anyhow::Result<ExitCode> {
    let dirs = config.plugin_dirs();
    let found = crate::store::discover_plugins(&dirs, &config.plugins.paths);
    let host_abi = short_version(glint_sdk::abi::ABI_VERSION);
    let mut plugins = Vec::new();
    for (driver, plugin) in &found.plugins {
        let mut stores = Vec::new();
        for (id, store) in config.stores.iter().filter(|(_, s)| &s.driver == driver) {
            let capabilities = match plugin.open(id, &store.options) {
                Ok(opened) => {
                    let c = opened.capabilities();
                    json!({
                        "read": c.read, "write": c.write, "delete": c.delete,
                        "size": c.size, "ranged_read": c.ranged_read, "list": c.list,
                    })
                }
                Err(e) => json!({ "error": e.to_string() }),
            };
            stores.push(json!({ "id": id, "capabilities": capabilities }));
        }
        plugins.push(json!({
            "file": plugin.path().display().to_string(),
            "driver": driver,
            // The glint-sdk release the library was built with; its plugin ABI (in the
            // library header) is at most the host's, or it would have been refused.
            "sdk_version": plugin.sdk_version(),
            "host_abi_version": host_abi,
            "stores": stores,
        }));
    }
    let refused: Vec<Value> = found
        .refused
        .iter()
        .map(|err| json!({ "file": refused_file(err), "reason": err.to_string() }))
        .collect();
    let duplicates: Vec<Value> = found
        .duplicates
        .iter()
        .map(|(driver, ignored, used)| {
            json!({ "driver": driver, "ignored": ignored.display().to_string(), "used": used.display().to_string() })
        })
        .collect();
    let missing: Vec<&String> = config
        .stores
        .values()
        .map(|s| &s.driver)
        .filter(|d| !found.plugins.contains_key(*d))
        .collect();
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "host_abi_version": host_abi,
                "plugins": plugins,
                "refused": refused,
                "duplicates": duplicates,
                "searched": searched,
                "missing_drivers": missing,
            }))?
        );
    } else {
        print!(
            "{}",
            plugins_text(
                &host_abi,
                &plugins,
                &refused,
                &duplicates,
                &searched,
                &missing
            )
        );
    }
    Ok(if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `major.minor` of an ABI version (`1.2.0` → `1.2`): the patch number carries no meaning.
fn short_version(version: &str) -> String {
    let mut parts = version.splitn(3, '.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => version.to_owned(),
    }
}

/// The file a refusal names.
fn refused_file(err: &glint_sdk::host::LoadError) -> String {
    use glint_sdk::host::LoadError;
    let path = match err {
        LoadError::Open { path, .. }
        | LoadError::NotAPlugin { path, .. }
        | LoadError::Incompatible { path, .. }
        | LoadError::LayoutMismatch { path, .. }
        | LoadError::Init { path, .. } => path,
    };
    path.display().to_string()
}

/// The human-readable `plugins list`: a block per plugin, then what was left out.
fn plugins_text(
    host_abi: &str,
    plugins: &[Value],
    refused: &[Value],
    duplicates: &[Value],
    searched: &[String],
    missing: &[&String],
) -> String {
    use std::fmt::Write as _;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut out = String::new();
    // Infallible: writing to a String.
    let _ = writeln!(out, "this glint speaks store plugin ABI {host_abi}");
    for p in plugins {
        let _ = writeln!(out, "{}  {}", text(&p["driver"]), text(&p["file"]));
        let _ = writeln!(out, "    built with glint-sdk {}", text(&p["sdk_version"]));
        let stores = p["stores"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if stores.is_empty() {
            let _ = writeln!(out, "    used by no configured store");
        }
        for s in stores {
            let c = &s["capabilities"];
            let what = match c["error"].as_str() {
                Some(error) => format!("cannot open: {error}"),
                None => ["read", "write", "delete", "size", "ranged_read"]
                    .into_iter()
                    .filter(|name| c[*name] == true)
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let _ = writeln!(out, "    store {}: {what}", text(&s["id"]));
        }
    }
    for r in refused {
        let _ = writeln!(out, "refused {}: {}", text(&r["file"]), text(&r["reason"]));
    }
    for d in duplicates {
        let _ = writeln!(
            out,
            "ignored {}: driver {} is already provided by {}",
            text(&d["ignored"]),
            text(&d["driver"]),
            text(&d["used"])
        );
    }
    for dir in searched {
        let _ = writeln!(out, "searched {dir}");
    }
    for driver in missing {
        let _ = writeln!(out, "missing: no plugin provides driver '{driver}'");
    }
    out
}

/// `glint db check`: 0 when the schema is current, 2 when an upgrade is
/// pending, 1 when the database is newer than this binary.
pub async fn db_check(db: &Database, as_json: bool) -> anyhow::Result<ExitCode> {
    let status = db.schema_status().await?;
    let (pending, unknown) = (status.pending(), status.unknown());
    let (state, code) = if !unknown.is_empty() {
        ("newer_than_binary", ExitCode::FAILURE)
    } else if !pending.is_empty() {
        ("upgrade_needed", ExitCode::from(2))
    } else {
        ("current", ExitCode::SUCCESS)
    };
    if as_json {
        let mut doc = Map::new();
        doc.insert("state".into(), json!(state));
        doc.insert("applied".into(), json!(status.applied.last()));
        doc.insert("known".into(), json!(status.known.last()));
        doc.insert("pending".into(), json!(pending));
        doc.insert("unknown".into(), json!(unknown));
        println!("{}", Value::Object(doc));
    } else {
        match state {
            "current" => println!(
                "the schema is current (migration {})",
                status.applied.last().copied().unwrap_or(0)
            ),
            "upgrade_needed" => println!(
                "{} migrations pending ({:?}): run glint db upgrade",
                pending.len(),
                pending
            ),
            _ => println!(
                "the database has migrations this glint does not know ({unknown:?}): it was upgraded by a newer release"
            ),
        }
    }
    Ok(code)
}

/// `glint db upgrade`: applies the pending migrations.
pub async fn db_upgrade(db: &Database, as_json: bool) -> anyhow::Result<ExitCode> {
    let before = db.schema_status().await?.pending();
    db.upgrade().await.context("cannot upgrade the database")?;
    if as_json {
        println!("{}", json!({ "applied": before }));
    } else if before.is_empty() {
        println!("the schema was already current");
    } else {
        println!("applied {} migrations: {before:?}", before.len());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_text_shows_abi_stores_and_refusals() {
        let plugins = [json!({
            "driver": "acme", "file": "/p/libglint_store_acme.so", "sdk_version": "0.1.0",
            "stores": [
                { "id": "fast", "capabilities": { "read": true, "write": true, "delete": false,
                                                 "size": true, "ranged_read": false } },
                { "id": "bad", "capabilities": { "error": "ConfigInvalid: `root` is required" } },
            ],
        })];
        let refused = [json!({ "file": "/p/libglint_store_new.so", "reason": "built for 1.9" })];
        let driver = "gone".to_owned();
        let text = plugins_text(
            "1.2",
            &plugins,
            &refused,
            &[],
            &["/p".to_owned()],
            &[&driver],
        );
        assert_eq!(
            text,
            "this glint speaks store plugin ABI 1.2\n\
             acme  /p/libglint_store_acme.so\n\
             \x20   built with glint-sdk 0.1.0\n\
             \x20   store fast: read, write, size\n\
             \x20   store bad: cannot open: ConfigInvalid: `root` is required\n\
             refused /p/libglint_store_new.so: built for 1.9\n\
             searched /p\n\
             missing: no plugin provides driver 'gone'\n"
        );
        assert_eq!(short_version("1.2.0"), "1.2");
        assert_eq!(short_version("7"), "7");
    }

    #[test]
    fn secrets_are_redacted_by_name_and_in_urls() {
        let mut v = json!({
            "database": { "url": "postgres://glint:hunter2@db:5432/glint" },
            "auth": { "keystone": { "password": "pw", "token_cache_seconds": 300,
                                     "service_token_roles": ["service"] } },
            "stores": { "s": { "options": { "key": "k1", "user": "u",
                                             "auth_address": "http://ks/v3" } } },
            "tls": { "key_file": "/etc/key.pem" },
        });
        redact(&mut v, "");
        assert_eq!(v["database"]["url"], "postgres://glint:***@db:5432/glint");
        assert_eq!(v["auth"]["keystone"]["password"], "***");
        assert_eq!(v["auth"]["keystone"]["token_cache_seconds"], 300);
        assert_eq!(v["auth"]["keystone"]["service_token_roles"][0], "service");
        assert_eq!(v["stores"]["s"]["options"]["key"], "***");
        assert_eq!(v["stores"]["s"]["options"]["user"], "u");
        assert_eq!(v["stores"]["s"]["options"]["auth_address"], "http://ks/v3");
        assert_eq!(v["tls"]["key_file"], "/etc/key.pem");
    }
}
