//! Who may do what: Glance's policy rules, written in oslo.policy's check
//! language, with Glance 33's defaults in code (one file per resource) and
//! an operator file that overrides or adds rules.
//!
//! Semantics are those Glance 33 ships: the new role-based defaults only
//! (oslo.policy's `enforce_new_defaults = true`: deprecated rules are not
//! consulted) and scope enforcement (`enforce_scope = true`): a rule with
//! scope types, as every Glance operation rule is (`project`), refuses a
//! system-scoped or domain-scoped token with 403 before its check string is
//! even read. Every rule is parsed once, when the server starts; a rule that
//! does not parse, refers to an undefined rule or to itself stops the start
//! with a message naming it.
//!
//! In `noauth` mode the request context is an administrator without a user,
//! and every rule passes, as it does with Glance's unauthenticated context.
//!
//! # Using it
//!
//! [`Policy::enforce`] answers `Ok(())` or a [`Denied`] naming the rule. The
//! policy knows nothing of HTTP: the service layer turns a `Denied` into its
//! error (`?` works), and `api::error` decides the status (403 with Glance's
//! message, `You are not authorized to complete get_image action.`). Glance
//! hides what a caller may not see: [`Policy::enforce_or_hide`] marks the
//! denial `hidden` when the caller may not even read the resource (its
//! visibility rule fails too), which the API answers with 404.
//!
//! ```
//! use glint_core::context::RequestContext;
//! use glint_core::policy::{Policy, Target};
//!
//! let policy = Policy::defaults();
//! let mut ctx = RequestContext::anonymous("req-1".into());
//! ctx.user_id = Some("alice".into());
//! ctx.project_id = Some("p1".into());
//! ctx.roles = vec!["reader".into()];
//!
//! // An image of another project, shared with the caller's project.
//! let image = Target::image(Some("p2"), "shared").with("member_id", "p1");
//! assert!(policy.enforce("get_image", &ctx, &image).is_ok());
//!
//! // A reader may see it but not delete it: 403, not 404.
//! let denied = policy
//!     .enforce_or_hide("delete_image", "get_image", &ctx, &image)
//!     .unwrap_err();
//! assert!(!denied.hidden);
//!
//! // A private image of another project is hidden: the API answers 404.
//! let private = Target::image(Some("p2"), "private");
//! let denied = policy
//!     .enforce_or_hide("delete_image", "get_image", &ctx, &private)
//!     .unwrap_err();
//! assert!(denied.hidden);
//! ```

mod base;
mod cache;
mod check;
mod discovery;
mod images;
mod members;
mod metadefs;
mod target;
mod tasks;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use target::{Target, Value};

use crate::context::RequestContext;
use check::Check;
pub use check::SyntaxError;

/// A rule as Glance defines it by default.
#[derive(Debug, Clone, Copy)]
pub struct RuleDefault {
    pub name: &'static str,
    /// The check string, in oslo.policy's language.
    pub check: &'static str,
    pub description: &'static str,
    /// Token scopes the rule admits (`project`); empty admits any.
    pub scope_types: &'static [&'static str],
    /// The API operations that check it: method and path.
    pub operations: &'static [(&'static str, &'static str)],
}

/// Every default rule, base rules first, then one group per resource.
pub fn defaults() -> impl Iterator<Item = &'static RuleDefault> {
    [
        base::RULES,
        images::RULES,
        members::RULES,
        cache::RULES,
        tasks::RULES,
        metadefs::RULES,
        discovery::RULES,
    ]
    .into_iter()
    .flatten()
}

/// A rule ready to evaluate.
#[derive(Debug)]
struct Compiled {
    name: String,
    check_str: String,
    check: Check,
    scope_types: &'static [&'static str],
}

/// The rules in force: the defaults, with the operator's file applied.
#[derive(Debug)]
pub struct Policy {
    rules: Vec<Compiled>,
    by_name: HashMap<String, usize>,
}

/// Why the rules could not be loaded. Each message names the file or rule.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file {path}: {problem}")]
    File { path: String, problem: FileProblem },
    #[error("policy rule '{rule}': {problem}")]
    Rule { rule: String, problem: SyntaxError },
    #[error("policy rule '{rule}' refers to 'rule:{missing}', which is not defined")]
    Undefined { rule: String, missing: String },
    #[error("policy rules refer to each other in a cycle: {}", .cycle.join(" -> "))]
    Cycle { cycle: Vec<String> },
}

/// A refused operation. Converts into a 403 (`Forbidden`) or, when `hidden`,
/// a 404 (`NotFound`): the caller may not even see the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The rule that refused.
    pub rule: String,
    /// The caller may not see the resource either: answer 404.
    pub hidden: bool,
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "You are not authorized to complete {} action.",
            self.rule
        )
    }
}

impl Policy {
    /// Glance 33's defaults, untouched.
    pub fn defaults() -> Self {
        Self::with_overrides(BTreeMap::new()).expect("the default rules are valid")
    }

    /// The defaults with the rules of an operator file (YAML or JSON, a map of
    /// rule name to check string), when one is given.
    pub fn load(file: Option<&Path>) -> Result<Self, PolicyError> {
        match file {
            None => Ok(Self::defaults()),
            Some(path) => Self::with_overrides(read_file(path)?),
        }
    }

    /// The defaults, with `overrides` replacing rules of the same name and
    /// adding the others.
    pub fn with_overrides(overrides: BTreeMap<String, String>) -> Result<Self, PolicyError> {
        let mut rules: Vec<(String, String, &'static [&'static str])> = defaults()
            .map(|d| (d.name.to_owned(), d.check.to_owned(), d.scope_types))
            .collect();
        let mut by_name: HashMap<String, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.0.clone(), i))
            .collect();
        for (name, check_str) in overrides {
            match by_name.get(&name) {
                // An overridden rule keeps the scope types of its default.
                Some(&i) => rules[i].1 = check_str,
                None => {
                    by_name.insert(name.clone(), rules.len());
                    rules.push((name, check_str, &[]));
                }
            }
        }
        let mut compiled = Vec::with_capacity(rules.len());
        for (name, check_str, scope_types) in rules {
            let check = check::parse(&check_str).map_err(|problem| PolicyError::Rule {
                rule: name.clone(),
                problem,
            })?;
            compiled.push(Compiled {
                name,
                check_str,
                check,
                scope_types,
            });
        }
        for c in &mut compiled {
            let mut missing = None;
            c.check
                .rule_refs_mut(&mut |name, index| match by_name.get(name) {
                    Some(&i) => *index = i,
                    None => missing = missing.take().or_else(|| Some(name.to_owned())),
                });
            if let Some(missing) = missing {
                return Err(PolicyError::Undefined {
                    rule: c.name.clone(),
                    missing,
                });
            }
        }
        let policy = Self {
            rules: compiled,
            by_name,
        };
        policy.check_cycles()?;
        Ok(policy)
    }

    /// Rejects `a: rule:b`, `b: rule:a` (evaluation would never end).
    fn check_cycles(&self) -> Result<(), PolicyError> {
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; self.rules.len()];
        let mut path = Vec::new();
        for start in 0..self.rules.len() {
            self.visit(start, &mut state, &mut path)?;
        }
        Ok(())
    }

    fn visit(&self, i: usize, state: &mut [u8], path: &mut Vec<usize>) -> Result<(), PolicyError> {
        match state[i] {
            2 => return Ok(()),
            1 => {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..]
                    .iter()
                    .map(|&p| self.rules[p].name.clone())
                    .collect();
                cycle.push(self.rules[i].name.clone());
                return Err(PolicyError::Cycle { cycle });
            }
            _ => {}
        }
        state[i] = 1;
        path.push(i);
        let mut refs = Vec::new();
        self.rules[i].check.rule_refs(&mut refs);
        for r in refs {
            self.visit(r, state, path)?;
        }
        path.pop();
        state[i] = 2;
        Ok(())
    }

    /// Whether `ctx` counts as an administrator under the rules in force
    /// (`context_is_admin`; Glance decides its context's `is_admin` so).
    pub fn is_admin(&self, ctx: &RequestContext) -> bool {
        self.check("context_is_admin", ctx, &Target::new())
    }

    /// The check string of rule `name` in force, if defined.
    pub fn rule(&self, name: &str) -> Option<&str> {
        self.by_name
            .get(name)
            .map(|&i| self.rules[i].check_str.as_str())
    }

    /// Whether `ctx` may do `rule` to `target`.
    pub fn check(&self, rule: &str, ctx: &RequestContext, target: &Target<'_>) -> bool {
        if unauthenticated_admin(ctx) {
            return true;
        }
        let Some(&i) = self.by_name.get(rule) else {
            // Glance refuses to check a rule it never registered: a bug here.
            tracing::error!(rule, "policy check of an undefined rule: denied");
            return false;
        };
        let compiled = &self.rules[i];
        if !compiled.scope_types.is_empty() && !compiled.scope_types.contains(&token_scope(ctx)) {
            return false;
        }
        compiled.check.eval(&self.rules, ctx, target)
    }

    /// `Ok(())` when `ctx` may do `rule` to `target`; a 403 otherwise.
    pub fn enforce(
        &self,
        rule: &str,
        ctx: &RequestContext,
        target: &Target<'_>,
    ) -> Result<(), Denied> {
        if self.check(rule, ctx, target) {
            Ok(())
        } else {
            Err(Denied {
                rule: rule.to_owned(),
                hidden: false,
            })
        }
    }

    /// Like [`Policy::enforce`], but a caller refused `rule` who may not see
    /// the resource either (`visibility_rule`, e.g. `get_image` or
    /// `get_metadef_namespace`) is told it does not exist: the denial is
    /// `hidden`. Glance's image and metadef APIs answer so.
    pub fn enforce_or_hide(
        &self,
        rule: &str,
        visibility_rule: &str,
        ctx: &RequestContext,
        target: &Target<'_>,
    ) -> Result<(), Denied> {
        self.enforce(rule, ctx, target).map_err(|mut denied| {
            denied.hidden = rule == visibility_rule || !self.check(visibility_rule, ctx, target);
            denied
        })
    }
}

/// Glance's unauthenticated (`noauth`) context: every rule passes.
fn unauthenticated_admin(ctx: &RequestContext) -> bool {
    ctx.is_admin && ctx.user_id.is_none()
}

/// The scope of the caller's token, as oslo.policy tells them apart.
fn token_scope(ctx: &RequestContext) -> &'static str {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    if set(&ctx.system_scope) {
        "system"
    } else if set(&ctx.domain_id) {
        "domain"
    } else {
        "project"
    }
}

/// Reads an operator's rule file: a YAML (or JSON) map of rule name to
/// check string. An empty file changes nothing.
fn read_file(path: &Path) -> Result<BTreeMap<String, String>, PolicyError> {
    let error = |problem: FileProblem| PolicyError::File {
        path: path.display().to_string(),
        problem,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| error(FileProblem::Read(e.to_string())))?;
    parse_file(&text).map_err(error)
}

/// What is wrong with an operator's rule file as a whole.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    Syntax(String),
    #[error("expected a map of rule names to check strings")]
    NotAMap,
    #[error("rule names must be strings, not {0}")]
    NameNotString(String),
    #[error("rule '{0}': the check must be a string (the list-of-lists syntax is not supported)")]
    CheckNotString(String),
}

fn parse_file(text: &str) -> Result<BTreeMap<String, String>, FileProblem> {
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| FileProblem::Syntax(e.to_string()))?;
    let map = match value {
        serde_yaml::Value::Null => return Ok(BTreeMap::new()),
        serde_yaml::Value::Mapping(map) => map,
        _ => return Err(FileProblem::NotAMap),
    };
    let mut rules = BTreeMap::new();
    for (key, value) in map {
        let Some(name) = key.as_str() else {
            return Err(FileProblem::NameNotString(format!("{key:?}")));
        };
        let Some(check) = value.as_str() else {
            return Err(FileProblem::CheckNotString(name.to_owned()));
        };
        rules.insert(name.to_owned(), check.to_owned());
    }
    Ok(rules)
}

/// The default rules as a policy file, for `glint policy defaults`: each rule
/// with its description, operations and scope as comments.
pub fn defaults_yaml() -> String {
    let mut out = String::from(
        "# Glint's default policy rules (those of Glance 33), in oslo.policy's format.\n\
         # A file given as [policy] file overrides the rules it names and may add\n\
         # rules of its own; list only what you change.\n",
    );
    for rule in defaults() {
        out.push('\n');
        for line in wrap(rule.description, 76) {
            out.push_str("# ");
            out.push_str(&line);
            out.push('\n');
        }
        for (method, path) in rule.operations {
            out.push_str(&format!("# {method}  {path}\n"));
        }
        if !rule.scope_types.is_empty() {
            out.push_str(&format!("# Scope: {}\n", rule.scope_types.join(", ")));
        }
        let quote = |s: &str| serde_json::to_string(s).expect("strings serialise");
        out.push_str(&format!("{}: {}\n", quote(rule.name), quote(rule.check)));
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("never empty");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn ctx(roles: &[&str], project: Option<&str>) -> RequestContext {
        let mut c = RequestContext::anonymous("req-test".into());
        c.user_id = Some("u".into());
        c.roles = roles.iter().map(|r| r.to_string()).collect();
        c.project_id = project.map(str::to_owned);
        c.is_admin = c.roles.iter().any(|r| r == "admin");
        c
    }

    /// Rule name → (check string, scope types) from Glance's sample file.
    fn reference() -> BTreeMap<String, (String, Vec<String>)> {
        let shared = std::env::var_os("GLINT_SHARED").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
            std::path::PathBuf::from,
        );
        let path = shared.join("reference/glance-policy-defaults.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let mut out = BTreeMap::new();
        for block in text.split("\n\n") {
            let Some(line) = block.lines().find(|l| l.starts_with("#\"")) else {
                continue;
            };
            // `#"name": "check"`: the rest of the line after `#` is YAML.
            let map: BTreeMap<String, String> = serde_yaml::from_str(&line[1..]).unwrap();
            let (name, check) = map.into_iter().next().unwrap();
            let scopes = block
                .lines()
                .find_map(|l| l.strip_prefix("# Intended scope(s): "))
                .map(|s| s.split(", ").map(str::to_owned).collect())
                .unwrap_or_default();
            out.insert(name, (check, scopes));
        }
        out
    }

    #[test]
    fn defaults_match_glance_33() {
        let reference = reference();
        assert!(
            reference.len() > 60,
            "reference file read: {}",
            reference.len()
        );
        let ours: BTreeMap<String, (String, Vec<String>)> = defaults()
            .map(|d| {
                (
                    d.name.to_owned(),
                    (
                        d.check.to_owned(),
                        d.scope_types.iter().map(|s| s.to_string()).collect(),
                    ),
                )
            })
            .collect();
        for (name, expected) in &reference {
            assert_eq!(ours.get(name), Some(expected), "rule {name}");
        }
        for name in ours.keys() {
            assert!(reference.contains_key(name), "rule {name} is not Glance's");
        }
        let names: Vec<_> = defaults().map(|d| d.name).collect();
        assert_eq!(
            names.len(),
            names.iter().collect::<HashSet<_>>().len(),
            "unique"
        );
    }

    #[test]
    fn every_default_parses_and_resolves() {
        let policy = Policy::defaults();
        for d in defaults() {
            assert_eq!(policy.rule(d.name), Some(d.check));
            assert!(!d.description.is_empty(), "{}", d.name);
        }
    }

    #[test]
    fn the_printed_defaults_load_back_as_the_defaults() {
        let printed = parse_file(&defaults_yaml()).unwrap();
        let expected: BTreeMap<String, String> = defaults()
            .map(|d| (d.name.to_owned(), d.check.to_owned()))
            .collect();
        assert_eq!(printed, expected);
        Policy::with_overrides(printed).unwrap();
    }

    #[test]
    fn personas_against_image_rules() {
        let p = Policy::defaults();
        let admin = ctx(&["admin", "member", "reader"], Some("p1"));
        let member = ctx(&["member", "reader"], Some("p1"));
        let reader = ctx(&["reader"], Some("p1"));
        let own = Target::image(Some("p1"), "private");
        let other = Target::image(Some("p2"), "private");
        let public = Target::image(Some("p2"), "public");
        assert!(p.check("add_image", &member, &own));
        assert!(!p.check("add_image", &reader, &own));
        assert!(!p.check("add_image", &member, &other));
        assert!(p.check("add_image", &admin, &other));
        assert!(p.check("get_image", &reader, &public));
        assert!(!p.check("get_image", &reader, &other));
        assert!(p.check("download_image", &member, &public));
        assert!(!p.check("download_image", &reader, &public));
        assert!(!p.check("publicize_image", &member, &own));
        assert!(p.check("publicize_image", &admin, &own));
        assert!(p.check("communitize_image", &member, &own));
        let shared_with_me = Target::image(Some("p2"), "private").with("member_id", "p1");
        assert!(p.check("get_image", &reader, &shared_with_me));
        assert!(p.check("modify_member", &member, &shared_with_me));
        assert!(!p.check(
            "modify_member",
            &member,
            &own.clone().with("member_id", "p3")
        ));
        // `service_api` admits the service role.
        let service = ctx(&["service"], Some("svc"));
        assert!(p.check("fetch_image_location", &service, &own));
        assert!(!p.check("fetch_image_location", &member, &own));
    }

    #[test]
    fn scope_types_refuse_system_and_domain_tokens() {
        let p = Policy::defaults();
        let mut system = ctx(&["admin", "member", "reader"], None);
        system.system_scope = Some("all".into());
        assert!(!p.check("get_images", &system, &Target::project(&system)));
        assert!(!p.check("add_metadef_namespace", &system, &Target::project(&system)));
        // Rules without scope types still evaluate for them.
        assert!(p.check("context_is_admin", &system, &Target::new()));
        assert!(p.is_admin(&system));
        assert!(!p.is_admin(&ctx(&["member"], Some("p1"))));
        let mut domain = ctx(&["admin"], None);
        domain.domain_id = Some("default".into());
        assert!(!p.check("get_images", &domain, &Target::project(&domain)));
        let err = p
            .enforce("get_images", &system, &Target::project(&system))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "You are not authorized to complete get_images action."
        );
    }

    #[test]
    fn noauth_passes_everything_and_anonymous_nothing() {
        let p = Policy::defaults();
        let noauth = RequestContext::noauth("req".into());
        let anon = RequestContext::anonymous("req".into());
        for d in defaults() {
            assert!(p.check(d.name, &noauth, &Target::new()), "{}", d.name);
        }
        assert!(!p.check("get_images", &anon, &Target::project(&anon)));
    }

    #[test]
    fn forbidden_becomes_not_found_only_when_the_resource_is_invisible() {
        let p = Policy::defaults();
        let reader = ctx(&["reader"], Some("p1"));
        let public = Target::image(Some("p2"), "public");
        let private = Target::image(Some("p2"), "private");
        let d = p
            .enforce_or_hide("delete_image", "get_image", &reader, &public)
            .unwrap_err();
        assert!(!d.hidden);
        let d = p
            .enforce_or_hide("delete_image", "get_image", &reader, &private)
            .unwrap_err();
        assert!(d.hidden);
        let d = p
            .enforce_or_hide("get_image", "get_image", &reader, &private)
            .unwrap_err();
        assert!(d.hidden);
        let d = p.enforce("publicize_image", &reader, &public).unwrap_err();
        assert!(!d.hidden);
        assert_eq!(
            d.to_string(),
            "You are not authorized to complete publicize_image action."
        );
    }

    #[test]
    fn overrides_replace_and_add_rules() {
        let file = "\
# operators' rules
\"get_images\": \"role:auditor or rule:my_admins\"
my_admins: 'role:cloud_admin'
publicize_image: \"rule:my_admins\"
";
        let p = Policy::with_overrides(parse_file(file).unwrap()).unwrap();
        let auditor = ctx(&["auditor"], Some("p1"));
        let cloud_admin = ctx(&["cloud_admin"], Some("p1"));
        assert!(p.check("get_images", &auditor, &Target::project(&auditor)));
        assert!(p.check("get_images", &cloud_admin, &Target::project(&cloud_admin)));
        assert!(p.check(
            "publicize_image",
            &cloud_admin,
            &Target::image(Some("p1"), "private")
        ));
        // An overridden rule keeps its default's scope types.
        let mut system = ctx(&["auditor"], None);
        system.system_scope = Some("all".into());
        assert!(!p.check("get_images", &system, &Target::project(&system)));
        // A JSON file works the same.
        let json = parse_file(r#"{"get_images": "@", "x": "!"}"#).unwrap();
        assert_eq!(json["get_images"], "@");
        assert!(parse_file("").unwrap().is_empty());
    }

    #[test]
    fn bad_files_and_rules_are_refused_with_the_rule_named() {
        let load = |text: &str| Policy::with_overrides(parse_file(text).unwrap());
        let err = load("get_image: \"role:reader or\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("policy rule 'get_image': cannot parse"),
            "{err}"
        );
        let err = load("get_image: \"rule:nope\"").unwrap_err().to_string();
        assert_eq!(
            err,
            "policy rule 'get_image' refers to 'rule:nope', which is not defined"
        );
        let err = load("a: \"rule:b\"\nb: \"role:x or rule:a\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cycle") && err.contains("a -> b -> a"),
            "{err}"
        );
        let err = load("context_is_admin: \"rule:context_is_admin\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("context_is_admin -> context_is_admin"),
            "{err}"
        );
        assert!(parse_file("get_image: [[\"role:a\"]]").is_err());
        assert!(parse_file("- a\n- b").is_err());
        assert!(parse_file("a: 1").is_err());
        assert!(parse_file("a: [unclosed").is_err());
        let err = Policy::load(Some(Path::new("/nonexistent/policy.yaml")))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("policy file /nonexistent/policy.yaml:"),
            "{err}"
        );
    }
}
