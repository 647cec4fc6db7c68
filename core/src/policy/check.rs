//! oslo.policy's check language: parsed once into a tree, evaluated per
//! request without allocating in the common cases.
//!
//! A check string is whitespace-separated tokens:
//! - `@` always passes, `!` never does, the empty string always passes;
//! - `rule:NAME` evaluates another rule;
//! - `role:NAME` passes when the caller has that role (case-insensitive);
//! - `KIND:MATCH` (any other kind) compares a credential of the caller
//!   (`project_id`, `user_id`, `is_admin`, `system_scope`, `roles`, …)
//!   with MATCH; a list credential passes when any element equals MATCH;
//! - `'LITERAL':MATCH` (also `True`, `False`, `None`, integers) compares the
//!   literal itself with MATCH;
//! - MATCH may interpolate target attributes with `%(name)s`; a missing
//!   attribute fails the check;
//! - `not`, `and`, `or` (any case) and parentheses combine checks: `not`
//!   binds tightest, then `and`, then `or`.
//!
//! Unlike oslo.policy, which logs a rule it cannot parse and treats it as
//! `!`, a malformed rule is an error here: the server refuses to start.

use std::borrow::Cow;

use super::target::{Target, Value};
use crate::context::RequestContext;

/// A parsed check string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Check {
    True,
    False,
    /// `rule:NAME`; `index` is set when the rule set is resolved.
    Rule {
        name: String,
        index: usize,
    },
    Role(Template),
    Generic(Kind, Template),
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
}

/// The left side of a generic check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A literal compared as is (`'public'`, `True`, `42`).
    Literal(String),
    /// A credential of the caller, by name.
    Cred(String),
}

/// The right side of a check, with `%(name)s` interpolations.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template(Vec<Piece>);

/// Why a check string does not parse, naming the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error("unterminated '%(' in '{0}'")]
    UnterminatedAttr(String),
    #[error("'%({name})' in '{text}' must be written '%({name})s'")]
    AttrWithoutS { name: String, text: String },
    #[error("a '%' in '{0}' must start '%(name)s' or be doubled")]
    LonePercent(String),
    #[error("cannot parse '{0}'")]
    Unparsable(String),
    #[error("a rule of only white space is not valid (use \"\" or \"@\")")]
    OnlyWhiteSpace,
    #[error(
        "cannot parse '{0}': unbalanced parentheses, a misplaced and/or/not, or a stray quoted string"
    )]
    Unbalanced(String),
    #[error("'{0}' is not a check: expected KIND:MATCH, '@' or '!'")]
    NotACheck(String),
    #[error("unterminated quoted literal {0}")]
    UnterminatedLiteral(String),
    #[error("'{0}' is not a valid integer literal")]
    BadInteger(String),
    #[error("a check needs a kind before ':'")]
    NoKind,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Attr(String),
}

impl Template {
    fn parse(s: &str) -> Result<Self, SyntaxError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = s;
        while let Some(pos) = rest.find('%') {
            text.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(after) = after.strip_prefix('%') {
                text.push('%');
                rest = after;
            } else if let Some(after) = after.strip_prefix('(') {
                let close = after
                    .find(')')
                    .ok_or_else(|| SyntaxError::UnterminatedAttr(s.to_owned()))?;
                let name = &after[..close];
                let Some(after) = after[close + 1..].strip_prefix('s') else {
                    return Err(SyntaxError::AttrWithoutS {
                        name: name.to_owned(),
                        text: s.to_owned(),
                    });
                };
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Attr(name.to_owned()));
                rest = after;
            } else {
                return Err(SyntaxError::LonePercent(s.to_owned()));
            }
        }
        text.push_str(rest);
        if !text.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Self(pieces))
    }

    /// The text after interpolation; `None` when an attribute is missing.
    fn render<'t>(&'t self, target: &Target<'t>) -> Option<Cow<'t, str>> {
        match self.0.as_slice() {
            [Piece::Text(t)] => Some(Cow::Borrowed(t)),
            [Piece::Attr(a)] => target.get(a).map(|v| Cow::Borrowed(v.as_text())),
            pieces => {
                let mut out = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Attr(a) => out.push_str(target.get(a)?.as_text()),
                    }
                }
                Some(Cow::Owned(out))
            }
        }
    }
}

/// A credential of the caller, as oslo.context's policy values hold it.
enum Cred<'c> {
    One(Value<'c>),
    List(&'c [String]),
}

fn cred<'c>(ctx: &'c RequestContext, name: &str) -> Option<Cred<'c>> {
    let one = |v: &'c Option<String>| Some(Cred::One(v.into()));
    match name {
        "user_id" | "user" => one(&ctx.user_id),
        "project_id" | "tenant" | "tenant_id" => one(&ctx.project_id),
        "domain_id" | "domain" => one(&ctx.domain_id),
        "user_domain_id" | "user_domain" => one(&ctx.user_domain_id),
        "project_domain_id" | "project_domain" => one(&ctx.project_domain_id),
        "system_scope" => one(&ctx.system_scope),
        // oslo.policy adds `system` only for system-scoped tokens.
        "system" => ctx
            .system_scope
            .as_deref()
            .map(|s| Cred::One(Value::Str(s))),
        "roles" => Some(Cred::List(&ctx.roles)),
        "service_roles" => Some(Cred::List(&ctx.service_roles)),
        "is_admin" => Some(Cred::One(Value::Bool(ctx.is_admin))),
        // Keystone marks no project as the admin project unless configured to.
        "is_admin_project" => Some(Cred::One(Value::Bool(true))),
        "service_user_id"
        | "service_user_domain_id"
        | "service_project_id"
        | "service_project_domain_id" => Some(Cred::One(Value::Null)),
        _ => None,
    }
}

impl Check {
    /// Evaluates this check; `rules` resolves `rule:` references.
    pub(crate) fn eval(
        &self,
        rules: &[super::Compiled],
        ctx: &RequestContext,
        target: &Target<'_>,
    ) -> bool {
        match self {
            Check::True => true,
            Check::False => false,
            Check::Rule { index, .. } => rules
                .get(*index)
                .is_some_and(|r| r.check.eval(rules, ctx, target)),
            Check::Role(template) => {
                let Some(wanted) = template.render(target) else {
                    return false;
                };
                ctx.roles.iter().any(|role| same_role(role, &wanted))
            }
            Check::Generic(kind, template) => {
                let Some(wanted) = template.render(target) else {
                    return false;
                };
                match kind {
                    Kind::Literal(literal) => *literal == wanted,
                    Kind::Cred(name) => match cred(ctx, name) {
                        None => false,
                        Some(Cred::One(v)) => v.as_text() == wanted,
                        Some(Cred::List(list)) => list.iter().any(|v| *v == wanted),
                    },
                }
            }
            Check::Not(inner) => !inner.eval(rules, ctx, target),
            Check::And(all) => all.iter().all(|c| c.eval(rules, ctx, target)),
            Check::Or(any) => any.iter().any(|c| c.eval(rules, ctx, target)),
        }
    }

    /// Every `rule:` reference, for resolution.
    pub(crate) fn rule_refs_mut(&mut self, f: &mut impl FnMut(&str, &mut usize)) {
        match self {
            Check::Rule { name, index } => f(name, index),
            Check::Not(inner) => inner.rule_refs_mut(f),
            Check::And(list) | Check::Or(list) => {
                list.iter_mut().for_each(|c| c.rule_refs_mut(f));
            }
            _ => {}
        }
    }

    /// The names of the rules this check references.
    pub(crate) fn rule_refs(&self, out: &mut Vec<usize>) {
        match self {
            Check::Rule { index, .. } => out.push(*index),
            Check::Not(inner) => inner.rule_refs(out),
            Check::And(list) | Check::Or(list) => list.iter().for_each(|c| c.rule_refs(out)),
            _ => {}
        }
    }
}

/// Roles are compared case-insensitively, as oslo.policy lower-cases both.
fn same_role(role: &str, wanted: &str) -> bool {
    if role.is_ascii() && wanted.is_ascii() {
        role.eq_ignore_ascii_case(wanted)
    } else {
        role.to_lowercase() == wanted.to_lowercase()
    }
}

/// One token of a check string, and the partial results of reducing them.
#[derive(Debug)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    /// A quoted string on its own: valid nowhere.
    Str,
    Check(Check),
    AndExpr(Vec<Check>),
    OrExpr(Vec<Check>),
}

/// Parses a check string. Precedence and grouping follow oslo.policy's
/// shift-reduce parser exactly.
pub(crate) fn parse(rule: &str) -> Result<Check, SyntaxError> {
    if rule.is_empty() {
        return Ok(Check::True);
    }
    let mut stack: Vec<Tok> = Vec::new();
    for word in rule.split_whitespace() {
        let opened = word.len() - word.trim_start_matches('(').len();
        for _ in 0..opened {
            shift(&mut stack, Tok::LParen);
        }
        let word = &word[opened..];
        if word.is_empty() {
            continue;
        }
        let clean = word.trim_end_matches(')');
        let closed = word.len() - clean.len();
        if !clean.is_empty() {
            let tok = match clean.to_lowercase().as_str() {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                _ if is_quoted(word) => Tok::Str,
                _ => Tok::Check(parse_check(clean)?),
            };
            shift(&mut stack, tok);
        }
        for _ in 0..closed {
            shift(&mut stack, Tok::RParen);
        }
    }
    match stack.pop() {
        Some(tok) if stack.is_empty() => match tok {
            Tok::Check(c) => Ok(c),
            Tok::AndExpr(list) => Ok(Check::And(list)),
            Tok::OrExpr(list) => Ok(Check::Or(list)),
            _ => Err(SyntaxError::Unparsable(rule.to_owned())),
        },
        None => Err(SyntaxError::OnlyWhiteSpace),
        Some(_) => Err(SyntaxError::Unbalanced(rule.to_owned())),
    }
}

/// oslo.policy's quoted-string token: the whole word (parentheses included)
/// starts and ends with the same quote.
fn is_quoted(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0]
}

fn parse_check(token: &str) -> Result<Check, SyntaxError> {
    match token {
        "@" => return Ok(Check::True),
        "!" => return Ok(Check::False),
        _ => {}
    }
    let Some((kind, matched)) = token.split_once(':') else {
        return Err(SyntaxError::NotACheck(token.to_owned()));
    };
    Ok(match kind {
        "rule" => Check::Rule {
            name: matched.to_owned(),
            index: usize::MAX,
        },
        "role" => Check::Role(Template::parse(matched)?),
        _ => Check::Generic(parse_kind(kind)?, Template::parse(matched)?),
    })
}

/// The left side of a generic check: a Python literal (compared as its
/// `str()`), or else a credential name.
fn parse_kind(kind: &str) -> Result<Kind, SyntaxError> {
    let first = kind.chars().next();
    if matches!(first, Some('\'' | '"')) {
        return if is_quoted(kind) {
            Ok(Kind::Literal(kind[1..kind.len() - 1].to_owned()))
        } else {
            Err(SyntaxError::UnterminatedLiteral(kind.to_owned()))
        };
    }
    if matches!(kind, "True" | "False" | "None") {
        return Ok(Kind::Literal(kind.to_owned()));
    }
    let digits = kind.strip_prefix(['-', '+']).unwrap_or(kind);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match kind.parse::<i64>() {
            Ok(n) if !(digits.len() > 1 && digits.starts_with('0')) => {
                Ok(Kind::Literal(n.to_string()))
            }
            _ => Err(SyntaxError::BadInteger(kind.to_owned())),
        };
    }
    if kind.is_empty() {
        return Err(SyntaxError::NoKind);
    }
    Ok(Kind::Cred(kind.to_owned()))
}

fn shift(stack: &mut Vec<Tok>, tok: Tok) {
    stack.push(tok);
    reduce(stack);
}

/// oslo.policy's greedy reductions, tried on the top of the stack after
/// every shift until none applies.
fn reduce(stack: &mut Vec<Tok>) {
    loop {
        let n = stack.len();
        if n >= 3 {
            let (a, b, c) = (&stack[n - 3], &stack[n - 2], &stack[n - 1]);
            let reduced = match (a, b, c) {
                (Tok::LParen, Tok::Check(_) | Tok::AndExpr(_) | Tok::OrExpr(_), Tok::RParen) => {
                    Some(1)
                }
                (Tok::Check(_) | Tok::AndExpr(_) | Tok::OrExpr(_), Tok::And, Tok::Check(_)) => {
                    Some(2)
                }
                (Tok::Check(_) | Tok::AndExpr(_) | Tok::OrExpr(_), Tok::Or, Tok::Check(_)) => {
                    Some(3)
                }
                _ => None,
            };
            if let Some(rule) = reduced {
                let c = stack.pop().expect("three tokens");
                let _op = stack.pop();
                let a = stack.pop().expect("three tokens");
                let tok = match rule {
                    // ( x ) → x, as one check.
                    1 => Tok::Check(into_check(_op.expect("middle token"))),
                    // x and y: an and-chain grows; in an or-chain, the last
                    // alternative takes the new operand.
                    2 => {
                        let Tok::Check(c) = c else { unreachable!() };
                        match a {
                            Tok::AndExpr(mut list) => {
                                list.push(c);
                                Tok::AndExpr(list)
                            }
                            Tok::OrExpr(mut list) => {
                                let last = list.pop().expect("or-chains have two members");
                                let and = match last {
                                    Check::And(mut inner) => {
                                        inner.push(c);
                                        inner
                                    }
                                    other => vec![other, c],
                                };
                                list.push(Check::And(and));
                                Tok::OrExpr(list)
                            }
                            Tok::Check(a) => Tok::AndExpr(vec![a, c]),
                            _ => unreachable!(),
                        }
                    }
                    _ => {
                        let Tok::Check(c) = c else { unreachable!() };
                        match a {
                            Tok::OrExpr(mut list) => {
                                list.push(c);
                                Tok::OrExpr(list)
                            }
                            other => Tok::OrExpr(vec![into_check(other), c]),
                        }
                    }
                };
                stack.push(tok);
                continue;
            }
        }
        if n >= 2 && matches!(stack[n - 2], Tok::Not) && matches!(stack[n - 1], Tok::Check(_)) {
            let Some(Tok::Check(c)) = stack.pop() else {
                unreachable!()
            };
            stack.pop();
            stack.push(Tok::Check(Check::Not(Box::new(c))));
            continue;
        }
        return;
    }
}

fn into_check(tok: Tok) -> Check {
    match tok {
        Tok::Check(c) => c,
        Tok::AndExpr(list) => Check::And(list),
        Tok::OrExpr(list) => Check::Or(list),
        _ => unreachable!("only checks are folded"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(r: &str) -> Check {
        Check::Role(Template::parse(r).unwrap())
    }
    fn rule(r: &str) -> Check {
        Check::Rule {
            name: r.into(),
            index: usize::MAX,
        }
    }

    #[test]
    fn empty_and_constants() {
        assert_eq!(parse("").unwrap(), Check::True);
        assert_eq!(parse("@").unwrap(), Check::True);
        assert_eq!(parse("!").unwrap(), Check::False);
        assert!(parse("   ").is_err());
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let (a, b, c, d) = (role("a"), role("b"), role("c"), role("d"));
        assert_eq!(
            parse("role:a or role:b and role:c").unwrap(),
            Check::Or(vec![a.clone(), Check::And(vec![b.clone(), c.clone()])])
        );
        assert_eq!(
            parse("role:a and role:b or role:c and role:d").unwrap(),
            Check::Or(vec![
                Check::And(vec![a.clone(), b.clone()]),
                Check::And(vec![c.clone(), d.clone()])
            ])
        );
        assert_eq!(
            parse("role:a or role:b and role:c and role:d or role:a").unwrap(),
            Check::Or(vec![
                a.clone(),
                Check::And(vec![b.clone(), c.clone(), d.clone()]),
                a.clone()
            ])
        );
        assert_eq!(
            parse("role:a AND role:b Or role:c").unwrap(),
            Check::Or(vec![Check::And(vec![a, b]), c])
        );
    }

    #[test]
    fn not_binds_tightest_and_parentheses_group() {
        let (a, b, c) = (role("a"), role("b"), role("c"));
        let not = |c: Check| Check::Not(Box::new(c));
        assert_eq!(
            parse("not role:a and role:b").unwrap(),
            Check::And(vec![not(a.clone()), b.clone()])
        );
        assert_eq!(
            parse("role:a and not (role:b or role:c)").unwrap(),
            Check::And(vec![a.clone(), not(Check::Or(vec![b.clone(), c.clone()]))])
        );
        assert_eq!(parse("not not role:a").unwrap(), not(not(a.clone())));
        assert_eq!(
            parse("((role:a or role:b)) and role:c").unwrap(),
            Check::And(vec![Check::Or(vec![a.clone(), b.clone()]), c.clone()])
        );
        assert_eq!(parse("(role:a)").unwrap(), a);
    }

    #[test]
    fn kinds_of_checks() {
        assert_eq!(
            parse("rule:context_is_admin").unwrap(),
            rule("context_is_admin")
        );
        assert_eq!(
            parse("project_id:%(project_id)s").unwrap(),
            Check::Generic(
                Kind::Cred("project_id".into()),
                Template(vec![Piece::Attr("project_id".into())])
            )
        );
        assert_eq!(
            parse("'public':%(visibility)s").unwrap(),
            Check::Generic(
                Kind::Literal("public".into()),
                Template(vec![Piece::Attr("visibility".into())])
            )
        );
        assert_eq!(
            parse("is_admin:True").unwrap(),
            Check::Generic(
                Kind::Cred("is_admin".into()),
                Template(vec![Piece::Text("True".into())])
            )
        );
        assert_eq!(
            parse("True:%(enabled)s").unwrap(),
            Check::Generic(
                Kind::Literal("True".into()),
                Template(vec![Piece::Attr("enabled".into())])
            )
        );
        // Only the first ':' splits: the match may hold more.
        assert_eq!(parse("role:compute:admin").unwrap(), role("compute:admin"));
        assert_eq!(
            parse("user_id:u-%(owner)s-%%").unwrap(),
            Check::Generic(
                Kind::Cred("user_id".into()),
                Template(vec![
                    Piece::Text("u-".into()),
                    Piece::Attr("owner".into()),
                    Piece::Text("-%".into())
                ])
            )
        );
    }

    #[test]
    fn malformed_rules_are_errors() {
        for bad in [
            "role:a or",
            "and role:a",
            "(role:a",
            "role:a)",
            "role:a role:b",
            "not",
            "admin",
            "'quoted'",
            "role:a or \"x\"",
            "project_id:%(project_id)",
            "project_id:%(project_id",
            "project_id:50%",
            "'public:%(visibility)s",
            "007:%(x)s",
            ":x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    fn ctx(roles: &[&str], project: Option<&str>) -> RequestContext {
        let mut c = RequestContext::anonymous("req-test".into());
        c.roles = roles.iter().map(|r| r.to_string()).collect();
        c.project_id = project.map(str::to_owned);
        c.user_id = Some("u1".into());
        c
    }

    fn eval(rule: &str, ctx: &RequestContext, target: &Target<'_>) -> bool {
        parse(rule).unwrap().eval(&[], ctx, target)
    }

    #[test]
    fn evaluation_against_credentials_and_target() {
        let member = ctx(&["member", "reader"], Some("p1"));
        let mine = Target::image(Some("p1"), "private");
        let theirs = Target::image(Some("p2"), "public");
        let rule = "role:reader and (project_id:%(project_id)s or 'public':%(visibility)s)";
        assert!(eval(rule, &member, &mine));
        assert!(eval(rule, &member, &theirs));
        assert!(!eval(rule, &member, &Target::image(Some("p2"), "private")));
        // A missing attribute fails the check that reads it, not the rule.
        assert!(!eval("'public':%(visibility)s", &member, &Target::new()));
        assert!(eval(
            "'public':%(visibility)s or project_id:%(project_id)s",
            &member,
            &Target::new().with("project_id", "p1")
        ));
        assert!(eval("role:MEMBER", &member, &Target::new()));
        assert!(!eval("role:admin", &member, &Target::new()));
        assert!(eval(
            "role:%(r)s",
            &member,
            &Target::new().with("r", "Reader")
        ));
        assert!(eval("roles:member", &member, &Target::new()));
        assert!(!eval("is_admin:True", &member, &Target::new()));
        assert!(eval("is_admin:False", &member, &Target::new()));
        assert!(eval("tenant:%(owner)s", &member, &mine));
        assert!(!eval("system_scope:all", &member, &Target::new()));
        assert!(!eval("unknown_cred:x", &member, &Target::new()));
        assert!(eval("not role:admin", &member, &Target::new()));
        let mut system = ctx(&["admin"], None);
        system.system_scope = Some("all".into());
        assert!(eval("system_scope:all", &system, &Target::new()));
        assert!(eval("system:all", &system, &Target::new()));
        // oslo.policy compares str(None) == "None": an unset owner matches a
        // caller without a project. Scope checks keep such callers out.
        assert!(eval(
            "project_id:%(project_id)s",
            &system,
            &Target::image(None, "private")
        ));
        assert!(eval(
            "True:%(flag)s",
            &member,
            &Target::new().with("flag", true)
        ));
    }
}
