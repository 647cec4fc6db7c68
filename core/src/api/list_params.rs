//! `GET /v2/images` query string → a validated `ListQuery`, with Glance's rules
//! and messages.

use chrono::{DateTime, Utc};

use crate::config::ApiConfig;
use crate::domain::{
    CmpOp, ImageStatus, ListQuery, Scope, SortDir, SortKey, Visibility, VisibilityFilter,
};

/// A query that can only match nothing (an `in:` list of unknown statuses).
#[derive(Debug, PartialEq)]
pub enum Parsed {
    Query(Box<ListQuery>),
    Empty,
}

/// Why a list query was refused (400), in Glance's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("limit param must be an integer")]
    LimitNotInteger,
    #[error("limit param must be positive")]
    LimitNegative,
    #[error("No image found with ID {0}")]
    Marker(String),
    #[error("Invalid visibility value: {0}")]
    Visibility(String),
    #[error("Invalid status: {0}")]
    MemberStatus(String),
    #[error("The \"changes-since\" filter is no longer available on v2.")]
    ChangesSince,
    #[error(
        "Invalid sort key: {key}. It must be one of the following: {}.",
        sort_keys()
    )]
    SortKey { key: String },
    #[error("Invalid sort direction: {0}")]
    SortDir(String),
    #[error("Old and new sorting syntax cannot be combined")]
    MixedSortSyntax,
    #[error("Number of sort dirs does not match the number of sort keys")]
    SortDirCount,
    #[error("Unable to filter by unknown operator '{0}'.")]
    Operator(String),
    #[error("Invalid filter value: the quotes are not closed.")]
    OpenQuote,
    #[error("Unable to filter on a range with a non-numeric value.")]
    NonNumericRange,
    #[error("Invalid value '{value}' for '{key}' filter. Valid values are 'true' or 'false'.")]
    Boolean { key: String, value: String },
    #[error("Bad \"{0}\" query filter format. Use ISO 8601 DateTime notation.")]
    DateFormat(String),
    #[error("Unable to filter on a unknown operator.")]
    DateOperator,
    #[error("Too many filters: at most {0} are allowed in one list request.")]
    TooManyFilters(usize),
    #[error("Too many values in an 'in:' filter: at most {0} are allowed.")]
    InListTooLong(usize),
    #[error("Too many sort keys: at most {0} are allowed.")]
    TooManySortKeys(usize),
}

fn sort_keys() -> String {
    let all: Vec<&str> = SortKey::ALL.iter().map(|k| k.as_str()).collect();
    all.join(", ")
}

type R<T> = Result<T, QueryError>;

pub fn parse(query: &str, scope: Scope, api: &ApiConfig) -> R<Parsed> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut q = ListQuery::new(scope, api.limit_param_default.min(api.api_limit_max));
    let (mut sort_keys, mut sort_dirs, mut sort) = (Vec::new(), Vec::new(), None);
    let mut empty = false;
    // Each filter costs the database a condition: bounded before any is built.
    let filters = pairs.iter().filter(|(k, _)| !is_paging(k)).count();
    if filters > api.max_list_filters {
        return Err(QueryError::TooManyFilters(api.max_list_filters));
    }
    let eq_or_in = |value: &str| eq_or_in(value, api.max_in_list_items);

    for (key, value) in &pairs {
        match key.as_str() {
            "limit" => {
                let n: i64 = value.parse().map_err(|_| QueryError::LimitNotInteger)?;
                if n < 0 {
                    return Err(QueryError::LimitNegative);
                }
                q.limit = n.min(api.api_limit_max as i64) as u32;
            }
            "marker" => {
                q.marker = Some(
                    uuid::Uuid::parse_str(value).map_err(|_| QueryError::Marker(value.clone()))?,
                )
            }
            "sort_key" => {
                if sort_keys.len() == api.max_sort_keys {
                    return Err(QueryError::TooManySortKeys(api.max_sort_keys));
                }
                sort_keys.push(sort_key(value)?)
            }
            "sort_dir" => sort_dirs.push(sort_dir(value)?),
            "sort" => sort = Some(value.clone()),
            "name" => q.names = eq_or_in(value)?,
            "id" => {
                q.ids = eq_or_in(value)?.map(|ids| {
                    ids.iter()
                        .filter_map(|s| uuid::Uuid::parse_str(s).ok())
                        .collect::<Vec<_>>()
                });
                empty |= q.ids.as_ref().is_some_and(Vec::is_empty);
            }
            "status" => {
                q.statuses = eq_or_in(value)?.map(|v| {
                    v.iter()
                        .filter_map(|s| ImageStatus::parse(s))
                        .collect::<Vec<_>>()
                });
                empty |= q.statuses.as_ref().is_some_and(Vec::is_empty);
            }
            "container_format" => q.container_formats = eq_or_in(value)?,
            "disk_format" => q.disk_formats = eq_or_in(value)?,
            "visibility" => {
                q.visibility = Some(match value.as_str() {
                    "all" => VisibilityFilter::All,
                    v => VisibilityFilter::Only(
                        Visibility::parse(v).ok_or_else(|| QueryError::Visibility(v.to_owned()))?,
                    ),
                })
            }
            "member_status" => {
                q.member_status = match value.as_str() {
                    "accepted" => Some("accepted"),
                    "pending" => Some("pending"),
                    "rejected" => Some("rejected"),
                    "all" => None,
                    _ => return Err(QueryError::MemberStatus(value.clone())),
                };
            }
            "owner" => q.owner = Some(value.clone()),
            "tag" => q.tags.push(value.clone()),
            "size_min" => q.size_min = Some(int(value)?),
            "size_max" => q.size_max = Some(int(value)?),
            "protected" => q.protected = Some(boolean(key, value)?),
            "os_hidden" => q.os_hidden = Some(boolean(key, value)?),
            "checksum" => q.checksum = Some(value.clone()),
            "os_hash_value" => q.os_hash_value = Some(value.clone()),
            "created_at" => q.created_at.push(date_filter(key, value)?),
            "updated_at" => q.updated_at.push(date_filter(key, value)?),
            "changes-since" => {
                return Err(QueryError::ChangesSince);
            }
            _ => q.properties.push((key.clone(), value.clone())),
        }
    }
    if sort
        .as_deref()
        .is_some_and(|s| s.split(',').count() > api.max_sort_keys)
    {
        return Err(QueryError::TooManySortKeys(api.max_sort_keys));
    }
    q.sort = sorting(sort_keys, sort_dirs, sort)?;
    Ok(if empty {
        Parsed::Empty
    } else {
        Parsed::Query(Box::new(q))
    })
}

/// The parameters that page and order a list rather than filter it.
fn is_paging(key: &str) -> bool {
    matches!(key, "limit" | "marker" | "sort_key" | "sort_dir" | "sort")
}

fn sort_key(s: &str) -> R<SortKey> {
    SortKey::parse(s.trim()).ok_or_else(|| QueryError::SortKey { key: s.to_owned() })
}

fn sort_dir(s: &str) -> R<SortDir> {
    SortDir::parse(s.trim()).ok_or_else(|| QueryError::SortDir(s.to_owned()))
}

fn sorting(
    keys: Vec<SortKey>,
    dirs: Vec<SortDir>,
    sort: Option<String>,
) -> R<Vec<(SortKey, SortDir)>> {
    if let Some(sort) = sort {
        if !keys.is_empty() || !dirs.is_empty() {
            return Err(QueryError::MixedSortSyntax);
        }
        // `key`, `key:` and `key:dir`; a key given twice sorts by its first direction.
        return sort
            .trim()
            .split(',')
            .map(|item| {
                let (k, d) = item.split_once(':').unwrap_or((item, ""));
                let dir = match d.trim() {
                    "" => SortDir::Desc,
                    d => sort_dir(d)?,
                };
                Ok((sort_key(k)?, dir))
            })
            .collect();
    }
    let keys = if keys.is_empty() {
        vec![SortKey::CreatedAt]
    } else {
        keys
    };
    match dirs.len() {
        0 => Ok(keys.into_iter().map(|k| (k, SortDir::Desc)).collect()),
        1 => Ok(keys.into_iter().map(|k| (k, dirs[0])).collect()),
        n if n == keys.len() => Ok(keys.into_iter().zip(dirs).collect()),
        _ => Err(QueryError::SortDirCount),
    }
}

/// `value`, `eq:value` or `in:a,"b,c"` of at most `max_items` values; any other
/// operator is refused.
fn eq_or_in(value: &str, max_items: usize) -> R<Option<Vec<String>>> {
    match value.split_once(':') {
        None => Ok(Some(vec![value.to_owned()])),
        Some(("eq", v)) => Ok(Some(vec![v.to_owned()])),
        Some(("in", list)) => {
            let items = split_quoted(list)?;
            if items.len() > max_items {
                return Err(QueryError::InListTooLong(max_items));
            }
            Ok(Some(items))
        }
        Some((op, _)) => Err(QueryError::Operator(op.to_owned())),
    }
}

/// Split on commas outside double quotes; quotes group values that contain commas.
fn split_quoted(list: &str) -> R<Vec<String>> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut was_quoted) = (String::new(), false, false);
    for c in list.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            ',' if !quoted => {
                out.push(if was_quoted {
                    std::mem::take(&mut cur)
                } else {
                    std::mem::take(&mut cur).trim().to_owned()
                });
                was_quoted = false;
            }
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err(QueryError::OpenQuote);
    }
    out.push(if was_quoted {
        cur
    } else {
        cur.trim().to_owned()
    });
    Ok(out)
}

/// A `size_min`/`size_max` bound.
fn int(value: &str) -> R<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| QueryError::NonNumericRange)
}

fn boolean(key: &str, value: &str) -> R<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(QueryError::Boolean {
            key: key.to_owned(),
            value: value.to_owned(),
        }),
    }
}

/// `op:ISO8601` or a bare ISO 8601 time (equality). As Glance: the time is checked before the
/// operator.
fn date_filter(key: &str, value: &str) -> R<(CmpOp, DateTime<Utc>)> {
    if let Some(t) = iso_time(value) {
        return Ok((CmpOp::Eq, t));
    }
    let bad = || QueryError::DateFormat(key.to_owned());
    let (op, time) = value.split_once(':').ok_or_else(bad)?;
    let time = iso_time(time).ok_or_else(bad)?;
    let op = CmpOp::parse(op).ok_or(QueryError::DateOperator)?;
    Ok((op, time))
}

fn iso_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), fmt) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<ListQuery, String> {
        match parse(s, Scope::default(), &ApiConfig::default()).map_err(|e| e.to_string())? {
            Parsed::Query(q) => Ok(*q),
            Parsed::Empty => Err("empty".into()),
        }
    }

    #[test]
    fn defaults() {
        let q = q("").unwrap();
        assert_eq!(q.limit, 25);
        assert_eq!(q.sort, vec![(SortKey::CreatedAt, SortDir::Desc)]);
        assert_eq!(q.os_hidden, Some(false));
    }

    #[test]
    fn limit_is_capped_and_validated() {
        assert_eq!(q("limit=5000").unwrap().limit, 1000);
        assert!(q("limit=x").is_err());
        assert!(q("limit=-1").is_err());
    }

    #[test]
    fn classic_and_new_sorting() {
        assert_eq!(
            q("sort_key=name&sort_key=size&sort_dir=asc").unwrap().sort,
            vec![(SortKey::Name, SortDir::Asc), (SortKey::Size, SortDir::Asc)]
        );
        assert_eq!(
            q("sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc")
                .unwrap()
                .sort,
            vec![
                (SortKey::Name, SortDir::Asc),
                (SortKey::Size, SortDir::Desc)
            ]
        );
        assert_eq!(
            q("sort=name:asc,size").unwrap().sort,
            vec![
                (SortKey::Name, SortDir::Asc),
                (SortKey::Size, SortDir::Desc)
            ]
        );
        // As Glance: an empty direction is the default, and a repeated key is no error.
        assert_eq!(
            q("sort=name:,name:asc").unwrap().sort,
            vec![
                (SortKey::Name, SortDir::Desc),
                (SortKey::Name, SortDir::Asc)
            ]
        );
        assert_eq!(
            q("sort=name:asc&sort_key=name").unwrap_err(),
            "Old and new sorting syntax cannot be combined"
        );
        for bad in [
            "sort_key=owner",
            "sort_dir=up",
            "sort=name&sort_key=size",
            "sort_key=a&sort_key=b&sort_dir=asc&sort_dir=asc&sort_dir=asc",
            "sort=name:sideways",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
        assert!(q("sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc").is_err());
    }

    #[test]
    fn in_and_eq_filters() {
        assert_eq!(
            q("name=in:a,%22b,%20c%22,d").unwrap().names,
            Some(vec!["a".into(), "b, c".into(), "d".into()])
        );
        assert_eq!(q("name=eq:x").unwrap().names, Some(vec!["x".into()]));
        assert!(q("name=like:x").is_err());
        assert!(q("name=in:%22a").is_err());
        assert_eq!(
            q("status=in:active,queued").unwrap().statuses,
            Some(vec![ImageStatus::Active, ImageStatus::Queued])
        );
        assert_eq!(
            parse("status=bogus", Scope::default(), &ApiConfig::default()).unwrap(),
            Parsed::Empty
        );
    }

    #[test]
    fn typed_filters_are_validated() {
        let good = q("size_min=1&size_max=10&protected=true&os_hidden=false&visibility=all&tag=a&tag=b&owner=p&hw=x").unwrap();
        assert_eq!(
            (good.size_min, good.size_max, good.protected),
            (Some(1), Some(10), Some(true))
        );
        assert_eq!(good.visibility, Some(VisibilityFilter::All));
        assert_eq!(good.tags, vec!["a", "b"]);
        assert_eq!(good.properties, vec![("hw".to_owned(), "x".to_owned())]);
        for bad in [
            "size_min=x",
            "protected=yes",
            "os_hidden=1",
            "visibility=everyone",
            "changes-since=2020-01-01",
            "member_status=maybe",
            "marker=nope",
        ] {
            assert!(q(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn input_is_bounded() {
        let api = ApiConfig {
            max_list_filters: 3,
            max_in_list_items: 2,
            max_sort_keys: 2,
            ..ApiConfig::default()
        };
        let parse = |s: &str| parse(s, Scope::default(), &api).map(|_| ());
        // Paging parameters are not filters.
        assert_eq!(
            parse(
                "tag=a&tag=b&p=v&limit=1&sort_key=name&marker=00000000-0000-0000-0000-000000000000"
            ),
            Ok(())
        );
        assert_eq!(
            parse("tag=a&tag=b&p=v&q=w"),
            Err(QueryError::TooManyFilters(3))
        );
        assert_eq!(
            parse(
                "created_at=gt:2020-01-01T00:00:00Z&created_at=gt:2020-01-01T00:00:00Z&updated_at=gt:2020-01-01T00:00:00Z&os_hidden=true"
            ),
            Err(QueryError::TooManyFilters(3))
        );
        assert_eq!(parse("name=in:a,b"), Ok(()));
        assert_eq!(parse("name=in:a,b,c"), Err(QueryError::InListTooLong(2)));
        assert_eq!(
            parse("status=in:active,queued,saving"),
            Err(QueryError::InListTooLong(2))
        );
        assert_eq!(parse("sort_key=name&sort_key=size"), Ok(()));
        assert_eq!(
            parse("sort_key=name&sort_key=size&sort_key=name"),
            Err(QueryError::TooManySortKeys(2))
        );
        assert_eq!(parse("sort=name:asc,size"), Ok(()));
        assert_eq!(
            parse("sort=name:asc,size,id"),
            Err(QueryError::TooManySortKeys(2))
        );
    }

    #[test]
    fn date_filters() {
        let q1 = q("created_at=gte:2020-01-01T00:00:00Z&updated_at=2021-05-05T10:00:00Z").unwrap();
        assert_eq!(q1.created_at[0].0, CmpOp::Gte);
        assert_eq!(q1.updated_at[0].0, CmpOp::Eq);
        assert!(q("created_at=gt:yesterday").is_err());
        assert!(q("created_at=around:2020-01-01T00:00:00Z").is_err());
    }
}
