//! Property protections: which roles may create, read, update and delete
//! which extra properties, from an operator's file in Glance's format.
//!
//! The file is INI: each section is a regular expression matched against a
//! property name (the first section that matches decides), with the keys
//! `create`, `read`, `update` and `delete`, each a comma-separated list of
//! roles, `@` (everyone) or `!` (no one):
//!
//! ```ini
//! [^x_billing_.*]
//! create = admin,billing
//! read = admin,billing,member
//! update = admin,billing
//! delete = admin
//!
//! [.*]
//! create = @
//! read = @
//! update = @
//! delete = @
//! ```
//!
//! With a file in force, a property no section matches may not be touched
//! at all, as in Glance; properties whose names start with `os_glance` are
//! always open (Glance manages them itself).

use regex::Regex;

/// One of the four operations on a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Read,
    Update,
    Delete,
}

impl Op {
    const ALL: [Op; 4] = [Op::Create, Op::Read, Op::Update, Op::Delete];

    fn key(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Read => "read",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone)]
enum Allowed {
    Everyone,
    NoOne,
    Roles(Vec<String>),
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Regex,
    ops: [Allowed; 4],
}

/// A mistake in a property protection file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtectionsError {
    #[error("line {line}: expected `key = value`")]
    NotAnEntry { line: usize },
    #[error("line {line}: an entry before any [section]")]
    NoSection { line: usize },
    #[error("[{section}] is not a valid regular expression: {reason}")]
    Pattern { section: String, reason: String },
    #[error("[{section}] has no `{op}` entry")]
    MissingOp { section: String, op: &'static str },
    #[error("[{section}] {op} = {value}: '@' and '!' are mutually exclusive")]
    EveryoneAndNoOne {
        section: String,
        op: &'static str,
        value: String,
    },
}

/// The rules in force; without a file every operation is allowed.
#[derive(Debug, Clone, Default)]
pub struct PropertyProtections {
    rules: Vec<Rule>,
}

impl PropertyProtections {
    /// No protections.
    pub fn none() -> Self {
        Self::default()
    }

    /// The rules of an operator's file (its text); any mistake in it is an error naming it.
    pub fn parse(text: &str) -> Result<Self, ProtectionsError> {
        let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                sections.push((name.to_owned(), Vec::new()));
                continue;
            }
            let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
                return Err(ProtectionsError::NotAnEntry { line: n + 1 });
            };
            let Some((_, entries)) = sections.last_mut() else {
                return Err(ProtectionsError::NoSection { line: n + 1 });
            };
            entries.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        // Glance's own properties come first, open to everyone.
        let mut rules = vec![Rule {
            pattern: Regex::new("^os_glance").expect("a valid pattern"),
            ops: [
                Allowed::Everyone,
                Allowed::Everyone,
                Allowed::Everyone,
                Allowed::Everyone,
            ],
        }];
        for (section, entries) in sections {
            if section.starts_with("os_glance") {
                continue;
            }
            let pattern = Regex::new(&section).map_err(|e| ProtectionsError::Pattern {
                section: section.clone(),
                reason: e.to_string(),
            })?;
            let mut ops = Vec::with_capacity(4);
            for op in Op::ALL {
                let Some((_, value)) = entries.iter().find(|(k, _)| k == op.key()) else {
                    return Err(ProtectionsError::MissingOp {
                        section: section.clone(),
                        op: op.key(),
                    });
                };
                let items: Vec<String> = value
                    .split(',')
                    .map(|r| r.trim().to_ascii_lowercase())
                    .filter(|r| !r.is_empty())
                    .collect();
                let everyone = items.iter().any(|r| r == "@");
                let no_one = items.iter().any(|r| r == "!");
                ops.push(match (everyone, no_one) {
                    (true, true) => {
                        return Err(ProtectionsError::EveryoneAndNoOne {
                            section: section.clone(),
                            op: op.key(),
                            value: value.clone(),
                        });
                    }
                    (true, false) => Allowed::Everyone,
                    (false, true) => Allowed::NoOne,
                    (false, false) if items.is_empty() => Allowed::NoOne,
                    (false, false) => Allowed::Roles(items),
                });
            }
            let ops: [Allowed; 4] = ops.try_into().expect("four operations");
            rules.push(Rule { pattern, ops });
        }
        Ok(Self { rules })
    }

    pub fn enabled(&self) -> bool {
        !self.rules.is_empty()
    }

    /// Whether a caller with `roles` may do `op` to the property `name`.
    pub fn allows(&self, name: &str, op: Op, roles: &[String]) -> bool {
        if !self.enabled() {
            return true;
        }
        let Some(rule) = self.rules.iter().find(|r| r.pattern.is_match(name)) else {
            return false;
        };
        let index = Op::ALL.iter().position(|o| *o == op).expect("a known op");
        match &rule.ops[index] {
            Allowed::Everyone => true,
            Allowed::NoOne => false,
            Allowed::Roles(allowed) => roles.iter().any(|r| allowed.contains(r)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "
# billing data
[^x_billing_.*]
create = admin, Billing
read = admin,billing,member
update = admin,billing
delete = admin

[^x_frozen$]
create = @
read = @
update = !
delete = !

[.*]
create = @
read = @
update = @
delete = @
";

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_first_matching_section_decides() {
        let p = PropertyProtections::parse(FILE).unwrap();
        let member = roles(&["member", "reader"]);
        let billing = roles(&["billing"]);
        assert!(!p.allows("x_billing_code", Op::Create, &member));
        assert!(p.allows("x_billing_code", Op::Read, &member));
        assert!(
            p.allows("x_billing_code", Op::Create, &billing),
            "roles compare case-insensitively"
        );
        assert!(!p.allows("x_billing_code", Op::Delete, &billing));
        assert!(p.allows("x_frozen", Op::Create, &member));
        assert!(!p.allows("x_frozen", Op::Update, &roles(&["admin"])));
        assert!(p.allows("anything_else", Op::Delete, &member));
        assert!(p.allows("os_glance_importing_to_stores", Op::Update, &[]));
    }

    #[test]
    fn unmatched_properties_are_closed_and_no_file_is_open() {
        let p =
            PropertyProtections::parse("[^a$]\ncreate=@\nread=@\nupdate=@\ndelete=@\n").unwrap();
        assert!(!p.allows("b", Op::Read, &roles(&["admin"])));
        assert!(PropertyProtections::none().allows("b", Op::Delete, &[]));
    }

    #[test]
    fn mistakes_are_reported_with_the_section() {
        for (text, needle) in [
            ("[a]\ncreate=@\nread=@\nupdate=@\n", "no `delete`"),
            (
                "[a]\ncreate=@,!\nread=@\nupdate=@\ndelete=@\n",
                "mutually exclusive",
            ),
            (
                "[(]\ncreate=@\nread=@\nupdate=@\ndelete=@\n",
                "not a valid regular expression",
            ),
            ("create=@\n", "before any [section]"),
        ] {
            let e = PropertyProtections::parse(text).unwrap_err();
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
        }
    }
}
