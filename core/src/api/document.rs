//! What the OpenAPI document says beyond what poem-openapi writes from the handlers' types.

/// The name of the `X-Auth-Token` security scheme.
const TOKEN_SCHEME: &str = "keystoneToken";

/// What poem-openapi cannot say from the handlers' types: the `X-Auth-Token` API key every
/// operation but version discovery takes (checked before routing, in `authenticate`).
pub(super) fn complete(raw: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(raw) else {
        return raw.to_owned();
    };
    doc["components"]["securitySchemes"][TOKEN_SCHEME] = serde_json::json!({
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "A Keystone token (any value when the server runs without Keystone).",
    });
    doc["security"] = serde_json::json!([{ TOKEN_SCHEME: [] }]);
    for path in ["/", "/versions"] {
        if let Some(get) = doc["paths"][path].get_mut("get") {
            get["security"] = serde_json::json!([]);
        }
    }
    share_error_answers(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| raw.to_owned())
}

/// Every operation declares the same error answers: each is written once, under
/// `components/responses` (`Error404`, ...), and referenced.
fn share_error_answers(doc: &mut serde_json::Value) {
    let mut shared = serde_json::Map::new();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths.values_mut().filter_map(|item| item.as_object_mut()) {
        for op in op.values_mut() {
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            for (status, answer) in responses.iter_mut() {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let name = format!("Error{status}");
                let first = shared.entry(name.clone()).or_insert_with(|| answer.clone());
                if first == answer {
                    *answer =
                        serde_json::json!({ "$ref": format!("#/components/responses/{name}") });
                }
            }
        }
    }
    doc["components"]["responses"] = serde_json::Value::Object(shared);
}
