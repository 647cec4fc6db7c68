//! The shape of the code, checked: layers point one way, no two files import
//! each other (directly or around a loop), statuses change only in the domain,
//! and no file of the server grows into several concerns.
//!
//! The import graph is read from the sources (`crate::` and `super::` paths),
//! file by file; a module naming one of its own ancestors is not an edge, as a
//! child reading its parent's items is how Rust modules are organised.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `core/src`, lowest first. A file may import its own layer or
/// any layer below it, never one above.
const LAYERS: &[(&str, &[&str])] = &[
    // Plain data, rules and the state machine: imports nothing else of ours.
    ("domain", &["domain"]),
    // Settings and the caller's identity: data every layer reads.
    // Metrics are counted from every layer below the services.
    ("base", &["config", "context", "metrics"]),
    // Infrastructure: each talks to one outside thing (database, stores,
    // Keystone, other HTTP servers, disk) or evaluates rules.
    (
        "infrastructure",
        &[
            "db",
            "store",
            "cache",
            "policy",
            "auth",
            "fetch",
            "format",
            "keymgr",
            "metadef_providers",
            "notify",
            "remote",
        ],
    ),
    // The composition root the services receive.
    ("app", &["app"]),
    // Each operation as explicit steps.
    ("service", &["service"]),
    // What drives the services: HTTP handlers and periodic jobs.
    ("drivers", &["api", "jobs"]),
    // Process wiring.
    (
        "process",
        &["server", "main", "lib", "admin", "logging", "replicate"],
    ),
];

/// Modules the HTTP layer reaches only through services.
const NOT_FROM_API: &[&str] = &[
    "db",
    "remote",
    "store",
    "cache",
    "fetch",
    "keymgr",
    "metadef_providers",
    "notify",
];

/// Past this many lines (tests excluded) a file of the server is doing too much.
const MAX_LINES: usize = 600;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ lives in the workspace")
        .to_path_buf()
}

/// Every `.rs` file under `src`, by module path (`service::import::job`).
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if matches!(parts.last().map(String::as_str), Some("mod")) {
                    parts.pop();
                }
                let module = parts.join("::");
                let text = std::fs::read_to_string(&path).expect("read source");
                out.insert(module, text);
            }
        }
    }
    out
}

/// The source without its `#[cfg(test)] mod tests { ... }` tail.
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The longest known module that `path` (`a::b::Item`) names.
fn resolve(known: &BTreeMap<String, String>, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    while !parts.is_empty() {
        let candidate = parts.join("::");
        if known.contains_key(&candidate) {
            return Some(candidate);
        }
        parts.pop();
    }
    None
}

/// The `::`-paths a use tree names, expanded one level of braces deep or more:
/// `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.trim_end_matches("::").to_owned()];
    };
    let prefix = tree[..open].trim();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    let mut out = Vec::new();
    for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
        let item = item.split(" as ").next().unwrap_or(item).trim();
        if item == "self" {
            out.push(prefix.trim_end_matches("::").to_owned());
        } else {
            out.extend(expand(&format!("{prefix}{item}")));
        }
    }
    out
}

/// The file-level import graph of one crate's `src`.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let known = modules(src);
    let mut edges = BTreeMap::new();
    for (module, text) in &known {
        // Comments may name any path (intra-doc links); only code imports.
        let code: String = without_tests(text)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code.as_str();
        let mut targets = BTreeSet::new();
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        for (marker, base) in [("crate::", ""), ("super::", parent)] {
            let mut rest = code;
            while let Some(at) = rest.find(marker) {
                let before = rest[..at].chars().last();
                rest = &rest[at + marker.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                // The path runs to the first character a path cannot hold, braces included.
                let mut depth = 0;
                let end = rest
                    .char_indices()
                    .find(|&(_, c)| match c {
                        '{' => {
                            depth += 1;
                            false
                        }
                        '}' if depth > 0 => {
                            depth -= 1;
                            false
                        }
                        c if depth > 0 => c == ';',
                        c => !(c.is_alphanumeric() || c == '_' || c == ':'),
                    })
                    .map_or(rest.len(), |(i, _)| i);
                for path in expand(&rest[..end]) {
                    let full = if base.is_empty() {
                        path
                    } else {
                        format!("{base}::{path}")
                    };
                    if let Some(target) = resolve(&known, &full) {
                        let ancestor = target.is_empty()
                            || module == &target
                            || module.starts_with(&format!("{target}::"));
                        if !ancestor {
                            targets.insert(target);
                        }
                    }
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// Strongly connected components of more than one file: the import cycles.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in &self.edges[v] {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(w);
                    component.push(w.to_owned());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.found
}

fn crate_sources() -> Vec<PathBuf> {
    let root = repo();
    let mut out = vec![
        root.join("core/src"),
        root.join("sdk/src"),
        root.join("sdk/testkit/src"),
    ];
    for entry in std::fs::read_dir(root.join("plugins")).expect("plugins/") {
        let src = entry.expect("entry").path().join("src");
        if src.is_dir() {
            out.push(src);
        }
    }
    out
}

#[test]
fn no_file_imports_itself_around_a_loop() {
    let mut problems = Vec::new();
    for src in crate_sources() {
        for cycle in cycles(&graph(&src)) {
            problems.push(format!("{}: {}", src.display(), cycle.join(" <-> ")));
        }
    }
    assert!(
        problems.is_empty(),
        "import cycles:\n{}",
        problems.join("\n")
    );
}

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap_or("");
    let top = if top.is_empty() { "lib" } else { top };
    LAYERS
        .iter()
        .position(|(_, members)| members.contains(&top))
}

#[test]
fn core_layers_point_down() {
    let edges = graph(&repo().join("core/src"));
    let mut problems = Vec::new();
    for (from, targets) in &edges {
        let Some(own) = layer_of(from) else {
            problems.push(format!(
                "{from}: not in any layer; add its top module to LAYERS"
            ));
            continue;
        };
        for to in targets {
            let theirs = layer_of(to).unwrap_or(usize::MAX);
            if theirs > own {
                problems.push(format!(
                    "{from} ({}) imports {to} ({}), a higher layer",
                    LAYERS[own].0,
                    LAYERS.get(theirs).map_or("none", |l| l.0)
                ));
            }
            let top = to.split("::").next().unwrap_or("");
            if from.starts_with("api") && NOT_FROM_API.contains(&top) {
                problems.push(format!(
                    "{from} imports {to}: the API reaches it only through services"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "layering:\n{}", problems.join("\n"));
}

/// `line` with the text of its string literals left out.
fn without_strings(line: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (_, '"') => {
                in_string = !in_string;
                out.push('"');
            }
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    out
}

#[test]
fn image_statuses_change_only_in_the_domain() {
    let mut problems = Vec::new();
    for (module, text) in modules(&repo().join("core/src")) {
        if module.starts_with("domain") {
            continue;
        }
        for (n, line) in without_tests(&text).lines().enumerate() {
            let code = without_strings(line.split("//").next().unwrap_or(""));
            if let Some(at) = code.find(".status = ") {
                if code[at..].contains("ImageStatus") {
                    problems.push(format!("{module}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "image statuses assigned outside core/src/domain (use Image::move_to):\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_server_file_grows_past_one_concern() {
    let mut problems = Vec::new();
    for (module, text) in modules(&repo().join("core/src")) {
        if module.ends_with("tests") {
            continue;
        }
        let lines = without_tests(&text).lines().count();
        if lines > MAX_LINES {
            problems.push(format!("{module}: {lines} lines"));
        }
    }
    assert!(
        problems.is_empty(),
        "files over {MAX_LINES} lines (tests excluded):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_cycles_and_braces() {
    assert_eq!(
        expand("a::{b, c::{d, e as f}, self}"),
        ["a::b", "a::c::d", "a::c::e", "a"]
    );
    assert_eq!(
        without_strings(r#"sql.push(" AND m.status = \"x\"").f(s.status = ImageStatus::Active)"#),
        r#"sql.push("").f(s.status = ImageStatus::Active)"#
    );
    let mut edges = BTreeMap::new();
    edges.insert("x".to_owned(), BTreeSet::from(["y".to_owned()]));
    edges.insert("y".to_owned(), BTreeSet::from(["x".to_owned()]));
    edges.insert("z".to_owned(), BTreeSet::from(["x".to_owned()]));
    assert_eq!(cycles(&edges), vec![vec!["x".to_owned(), "y".to_owned()]]);
}
