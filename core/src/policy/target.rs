//! What a rule is checked against: the attributes of the resource an
//! operation acts on, read by `%(name)s` in check strings.

use crate::context::RequestContext;
use crate::domain::metadefs::Namespace;

/// One attribute value, as oslo.policy turns it into text for comparison:
/// text as is, booleans as `True`/`False`, an unset value as `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    Null,
}

impl<'a> Value<'a> {
    /// The text a check string compares with.
    pub fn as_text(&self) -> &'a str {
        match self {
            Value::Str(s) => s,
            Value::Bool(true) => "True",
            Value::Bool(false) => "False",
            Value::Null => "None",
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(Value::Null, Value::Str)
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(s: &'a Option<String>) -> Self {
        s.as_deref().into()
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// The attributes a rule may read. An attribute that was never set makes
/// any check reading it fail (oslo.policy's missing key); one set to
/// `Value::Null` reads as the text `None`.
///
/// Glance's targets, and how to build them here:
/// - an image: [`Target::image`], plus `member_id` when the caller's project
///   is a member of it, and any other attribute a custom rule may need;
/// - an image about to be created: [`Target::image`] with the proposed owner
///   (the caller's project when the request names none);
/// - a metadef namespace, or anything inside one: [`Target::namespace`];
/// - a collection, or an operation on no resource: [`Target::project`].
#[derive(Debug, Clone, Default)]
pub struct Target<'a> {
    entries: Vec<(&'a str, Value<'a>)>,
}

impl<'a> Target<'a> {
    /// An empty target: every `%(…)s` check fails.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) attribute `key`.
    pub fn with(mut self, key: &'a str, value: impl Into<Value<'a>>) -> Self {
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
        self
    }

    /// Attribute `key`, if set.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// Glance's target for operations on no particular resource (lists,
    /// creates): `project_id` is the caller's project.
    pub fn project(ctx: &'a RequestContext) -> Self {
        Self::new().with("project_id", &ctx.project_id)
    }

    /// An image: `project_id` and `owner` are its owner, `visibility` its
    /// visibility (`public`, `community`, `shared`, `private`).
    pub fn image(owner: Option<&'a str>, visibility: &'a str) -> Self {
        Self::new()
            .with("project_id", owner)
            .with("owner", owner)
            .with("visibility", visibility)
    }

    /// A metadef namespace: `project_id` is its owner, `visibility` its
    /// visibility (`public` or `private`).
    pub fn namespace(ns: &'a Namespace) -> Self {
        Self::new()
            .with("project_id", &ns.owner)
            .with("visibility", ns.visibility.as_str())
    }
}
