//! The methods each path allows, read from the API definitions: the `Allow`
//! of a 405, in the order Glance's router writes it, and the `operation`
//! label of the metrics.

use poem::http::Method;
use poem_openapi::registry::MetaApi;

/// Whether `path` fits `template`, whose `{name}` segments match any non-empty segment.
pub fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

/// The order of the methods in Glance's `Allow` headers: every route of its
/// router lists them so, ...
const ALLOW_ORDER: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/// ... but one: the cache entry of an image, written `DELETE, PUT`.
const CACHE_ENTRY_ALLOW_ORDER: [&str; 2] = ["DELETE", "PUT"];
const CACHE_ENTRY: &str = "/v2/cache/{image_id}";

/// Path templates with their methods and operationIds, read from the API
/// definitions: for `Allow`, and for the `operation` label of the metrics.
pub struct AllowTable(Vec<PathMethods>);

/// A path template, and each of its methods with its operationId.
type PathMethods = (String, Vec<(String, &'static str)>);

impl AllowTable {
    pub fn new(apis: Vec<MetaApi>) -> Self {
        let mut table: Vec<PathMethods> = Vec::new();
        for api in apis {
            for path in api.paths {
                let methods = path
                    .operations
                    .iter()
                    .map(|o| (o.method.to_string(), o.operation_id.unwrap_or("unnamed")))
                    .collect();
                table.push((path.path.to_owned(), methods));
            }
        }
        Self(table)
    }

    /// The methods of the templates `path` matches, literal segments first.
    fn matching(&self, path: &str) -> impl Iterator<Item = &(String, &'static str)> {
        let mut found: Vec<&PathMethods> = self
            .0
            .iter()
            .filter(|(template, _)| template_matches(template, path))
            .collect();
        // `/v2/images/{id}` and `/v2/images/detail`-like pairs: the literal wins, as in routing.
        found.sort_by_key(|(template, _)| template.matches('{').count());
        found.into_iter().flat_map(|(_, methods)| methods)
    }

    /// The methods `path` allows, in the order Glance's router writes them in `Allow`.
    pub fn allowed(&self, path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (method, _) in self.matching(path) {
            if !out.contains(method) {
                out.push(method.clone());
            }
        }
        let order: &[&str] = if template_matches(CACHE_ENTRY, path) && !self.has_literal(path) {
            &CACHE_ENTRY_ALLOW_ORDER
        } else {
            &ALLOW_ORDER
        };
        out.sort_by_key(|m| order.iter().position(|o| o.eq_ignore_ascii_case(m)));
        out
    }

    /// Whether a template without parameters is `path` itself.
    fn has_literal(&self, path: &str) -> bool {
        self.0.iter().any(|(template, _)| template == path)
    }

    pub fn operation(&self, path: &str, method: &Method) -> &'static str {
        if matches!(path, "/" | "/versions") {
            return "versions";
        }
        let method = if method == Method::HEAD {
            "GET"
        } else {
            method.as_str()
        };
        self.matching(path)
            .find(|(m, _)| m.eq_ignore_ascii_case(method))
            .map_or("unmatched", |(_, id)| id)
    }
}
