//! `GET /v2/images`: visibility, filters, sorting and keyset pagination,
//! with Glance's semantics (`glance/db/sqlalchemy/api.py`, `image_get_all`).

use sqlx::AnyConnection;
use uuid::Uuid;

use super::codec::{
    IMAGE_COLUMNS, flag, id_text, images_from_page, micros, push_image_select, push_page_select,
};
use super::images::{Lock, fetch_image};
use super::members::is_member;
use super::sql::{Sql, Value};
use super::{Backend, Database, DbError};
use crate::domain::{
    CmpOp, Image, ImageStatus, ListQuery, Scope, SortDir, SortKey, Visibility, VisibilityFilter,
};

impl Database {
    /// One page of the images `query.scope` may see that match the filters,
    /// in the requested order. Killed and deleted images are never listed.
    ///
    /// The marker must be an image the caller may see (deleted does not
    /// count), else `MarkerNotFound`.
    pub async fn list_images(&self, query: &ListQuery) -> Result<Vec<Image>, DbError> {
        retrying!(self, "list_images", async {
            let mut conn = self.reader.acquire().await?;
            let marker = match query.marker {
                Some(id) => Some(visible_marker(&mut conn, self.backend, id, &query.scope).await?),
                None => None,
            };
            let common = common_filters(&mut conn, self.backend, query).await?;
            // The page is chosen first (`chosen`), numbered in its order, and
            // only then are its images' children read: where the order needs a
            // sort, reading them beside every match would read them for all.
            // The whole page comes back as one JSON value (`push_page_select`).
            let sort = sort_keys(&query.sort);
            let mut sql = Sql::new(self.backend);
            push_page_select(&mut sql);
            sql.push(" FROM (SELECT ROW_NUMBER() OVER (");
            push_order_by(&mut sql, &sort, "chosen");
            sql.push(") AS n, chosen.* FROM (SELECT ")
                .push(IMAGE_COLUMNS);
            push_list(&mut sql, query, &sort, &common, marker.as_ref());
            sql.push(") chosen) page");
            let row = sql.build()?.fetch_one(&mut *conn).await?;
            let mut page = images_from_page(&row)?;
            page.truncate(query.limit as usize);
            Ok(page)
        })
    }

    /// The database's plan for the page [`Database::list_images`] would
    /// read, with each image's children looked up as it does (the numbering
    /// of the page's own few rows is left out), one line per plan step
    /// (SQLite's `EXPLAIN QUERY PLAN` details, PostgreSQL's `EXPLAIN` lines,
    /// MySQL's `EXPLAIN FORMAT=JSON`). On
    /// PostgreSQL the plan is made with sequential scans turned off, so a
    /// `Seq Scan` in it means that no index can serve the query: the check
    /// for a missing index, whatever the table's size. For operators and the
    /// index tests; the marker is not applied.
    pub async fn explain_list_images(&self, query: &ListQuery) -> Result<Vec<String>, DbError> {
        let mut conn = self.reader.acquire().await?;
        let common = common_filters(&mut conn, self.backend, query).await?;
        let mut sql = Sql::new(self.backend);
        sql.push(match self.backend {
            Backend::Sqlite => "EXPLAIN QUERY PLAN ",
            Backend::Postgres => "EXPLAIN ",
            Backend::MySql => "EXPLAIN FORMAT=JSON ",
        });
        push_image_select(&mut sql);
        push_list(&mut sql, query, &sort_keys(&query.sort), &common, None);
        if self.backend == Backend::Postgres {
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await?;
        }
        let rows = sql.build()?.fetch_all(&mut *conn).await;
        if self.backend == Backend::Postgres {
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await?;
        }
        let column = match self.backend {
            Backend::Sqlite => 3,
            Backend::Postgres | Backend::MySql => 0,
        };
        rows?
            .iter()
            .map(|row| Ok(sqlx::Row::try_get::<String, _>(row, column)?))
            .collect()
    }
}

/// Everything of the page's selection after its select list: the table, the
/// caller's visibility, the filters, the page's start and its order.
fn push_list(
    sql: &mut Sql,
    query: &ListQuery,
    sort: &[(SortKey, SortDir)],
    common: &Common,
    marker: Option<&Image>,
) {
    sql.push(" FROM images i WHERE i.deleted = 0 AND i.status <> ")
        .push_word(ImageStatus::Killed.as_str());
    push_visibility(sql, &query.scope, query.visibility, query.member_status);
    push_filters(sql, query, common);
    if let Some(marker) = marker {
        sql.push(" AND ");
        push_after_marker(sql, sort, marker);
    }
    push_order_by(sql, sort, "i");
    let limit = selection_limit(sql.backend(), query.limit);
    sql.push(" LIMIT ").bind(limit);
}

/// How many images the page's selection asks for. SQLite's planner (3.51)
/// meets `ORDER BY … LIMIT 1` or `LIMIT 2` by sorting every match, where a
/// longer limit walks the ordering index and stops: at 100,000 images, a
/// page of one took 100 times longer than a page of 25. On SQLite the
/// selection asks for a few more, and [`Database::list_images`] keeps the
/// first `limit`.
fn selection_limit(backend: Backend, limit: u32) -> i64 {
    const SQLITE_FLOOR: u32 = 10;
    i64::from(match backend {
        Backend::Sqlite => limit.max(SQLITE_FLOOR),
        Backend::Postgres | Backend::MySql => limit,
    })
}

/// Which tag and property filters of a query match many images, in the
/// query's order. A rare value is best found from its own index, its few
/// images looked up and sorted; a common one is best tested image by image
/// while the sort index is walked, which stops at the limit. SQLite and MySQL
/// keep no statistics per value, so a bounded count decides; PostgreSQL's
/// planner has them and sees the same semi-join either way.
#[derive(Debug, Default)]
struct Common {
    tags: Vec<bool>,
    properties: Vec<bool>,
}

/// The number of matching child rows from which a filter counts as common:
/// walking the sort index then tests about `limit * images / count` images,
/// starting from the filter reads and sorts `count`; the two meet near
/// `count = sqrt(limit * images)`, which this approximates for catalogues of
/// 10^4 to 10^6 images while keeping the count itself short.
fn common_threshold(limit: u32) -> i64 {
    (i64::from(limit) * 40).clamp(1_000, 20_000)
}

async fn common_filters(
    conn: &mut AnyConnection,
    backend: Backend,
    query: &ListQuery,
) -> Result<Common, DbError> {
    let mut common = Common::default();
    if backend == Backend::Postgres {
        common.tags = vec![false; query.tags.len()];
        common.properties = vec![false; query.properties.len()];
        return Ok(common);
    }
    let threshold = common_threshold(query.limit);
    for tag in &query.tags {
        let mut sql = Sql::new(backend);
        sql.push("SELECT COUNT(*) FROM (SELECT 1 FROM image_tags t WHERE t.value = ")
            .bind(tag.as_str())
            .push(" LIMIT ")
            .bind(threshold)
            .push(") c");
        let count: i64 = sqlx::Row::try_get(&sql.build()?.fetch_one(&mut *conn).await?, 0)?;
        common.tags.push(count >= threshold);
    }
    // The same comparisons as the `IN` form below, so the same index serves
    // them: the prefix on SQLite, equality on the prefix-indexed value on MySQL.
    for (name, value) in &query.properties {
        let mut sql = Sql::new(backend);
        sql.push("SELECT COUNT(*) FROM (SELECT 1 FROM image_properties p WHERE p.name = ")
            .bind(name.as_str())
            .push(" AND substr(p.value, 1, 200) = substr(")
            .bind(value.as_str())
            .push(", 1, 200) AND p.value = ")
            .bind(value.as_str())
            .push(" LIMIT ")
            .bind(threshold)
            .push(") c");
        let count: i64 = sqlx::Row::try_get(&sql.build()?.fetch_one(&mut *conn).await?, 0)?;
        common.properties.push(count >= threshold);
    }
    Ok(common)
}

/// The marker image, if the caller may see it. Visibility here is Glance's
/// per-image rule, which is wider than the list's: any membership counts,
/// whatever its status, and so does an image without an owner.
async fn visible_marker(
    conn: &mut AnyConnection,
    backend: Backend,
    id: Uuid,
    scope: &Scope,
) -> Result<Image, DbError> {
    let image = fetch_image(conn, backend, id, Lock::None)
        .await?
        .ok_or(DbError::MarkerNotFound)?;
    let visible = match (&image.owner, scope.project_id.as_deref()) {
        _ if scope.is_admin => true,
        _ if matches!(image.visibility, Visibility::Public | Visibility::Community) => true,
        (None, _) => true,
        (Some(owner), Some(project)) if owner == project => true,
        (Some(_), Some(project)) if image.visibility == Visibility::Shared => {
            is_member(conn, backend, id, project).await?
        }
        (Some(_), _) => false,
    };
    if visible {
        Ok(image)
    } else {
        Err(DbError::MarkerNotFound)
    }
}

/// The images the caller may see, narrowed by the `visibility` filter.
///
/// Glance builds this as a union of "public or community", "owned by the
/// caller" and "shared with the caller, accepted", then filters by the
/// requested visibility; admins start from every image. Without a filter,
/// community images are shown to their owner only. The cases below are
/// that union and filter worked out per caller.
fn push_visibility(
    sql: &mut Sql,
    scope: &Scope,
    filter: Option<VisibilityFilter>,
    member_status: Option<&'static str>,
) {
    use Visibility::{Community, Private, Public, Shared};

    let admin = scope.is_admin;
    let project = scope.project_id.as_deref();
    sql.push(" AND ");
    match (filter, project) {
        (Some(VisibilityFilter::Only(visibility @ (Public | Community))), _) => {
            sql.push("i.visibility = ").push_word(visibility.as_str());
        }
        (Some(VisibilityFilter::Only(visibility @ (Private | Shared))), _) if admin => {
            sql.push("i.visibility = ").push_word(visibility.as_str());
        }
        (Some(VisibilityFilter::Only(Private)), Some(project)) => {
            sql.push("i.visibility = ").push_word(Private.as_str());
            sql.push(" AND i.owner = ").bind(project);
        }
        (Some(VisibilityFilter::Only(Shared)), Some(project)) => {
            sql.push("i.visibility = ").push_word(Shared.as_str());
            sql.push(" AND (i.owner = ").bind(project).push(" OR ");
            push_member(sql, project, member_status);
            sql.push(")");
        }
        // Private and shared images always have an owning project to match.
        (Some(VisibilityFilter::Only(Private | Shared)), None) => {
            sql.push("1 = 0");
        }
        (Some(VisibilityFilter::All), _) if admin => {
            sql.push("1 = 1");
        }
        (Some(VisibilityFilter::All), Some(project)) => {
            sql.push("(i.visibility IN (")
                .push_word(Public.as_str())
                .push(", ")
                .push_word(Community.as_str())
                .push(")");
            sql.push(" OR i.owner = ").bind(project).push(" OR ");
            push_member(sql, project, member_status);
            sql.push(")");
        }
        (Some(VisibilityFilter::All), None) => {
            sql.push("i.visibility IN (")
                .push_word(Public.as_str())
                .push(", ")
                .push_word(Community.as_str())
                .push(")");
        }
        (None, Some(project)) if admin => {
            sql.push("(i.owner = ").bind(project);
            sql.push(" OR i.visibility <> ")
                .push_word(Community.as_str())
                .push(")");
        }
        (None, None) if admin => {
            sql.push("i.visibility <> ").push_word(Community.as_str());
        }
        (None, Some(project)) => {
            sql.push("(i.visibility = ").push_word(Public.as_str());
            sql.push(" OR i.owner = ").bind(project).push(" OR ");
            push_member(sql, project, member_status);
            sql.push(")");
        }
        // Glance would also list every shared image that has any member here,
        // a leak we do not copy: without a project there is no membership.
        (None, None) => {
            sql.push("i.visibility = ").push_word(Public.as_str());
        }
    }
}

/// Shared with `project`, with the given answer (any when `None`). The visibility test sits inside the
/// subquery so that no branch of the surrounding OR can be answered from the
/// visibility index alone: SQLite would otherwise merge index lookups per
/// branch and sort, instead of walking the sort index and stopping at `limit`.
fn push_member(sql: &mut Sql, project: &str, status: Option<&'static str>) {
    sql.push("EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = i.id AND m.member = ")
        .bind(project);
    if let Some(status) = status {
        sql.push(" AND m.status = ").push_word(status);
    }
    sql.push(" AND i.visibility = ")
        .push_word(Visibility::Shared.as_str())
        .push(")");
}

fn push_filters(sql: &mut Sql, query: &ListQuery, common: &Common) {
    if let Some(ids) = &query.ids {
        sql.push(" AND ")
            .push_in("i.id", ids.iter().map(|id| id_text(*id)));
    }
    if let Some(names) = &query.names {
        sql.push(" AND ")
            .push_in("i.name", names.iter().map(String::as_str));
    }
    if let Some(statuses) = &query.statuses {
        sql.push(" AND ")
            .push_in("i.status", statuses.iter().map(|s| s.as_str()));
    }
    if let Some(formats) = &query.container_formats {
        sql.push(" AND ")
            .push_in("i.container_format", formats.iter().map(String::as_str));
    }
    if let Some(formats) = &query.disk_formats {
        sql.push(" AND ")
            .push_in("i.disk_format", formats.iter().map(String::as_str));
    }
    if let Some(owner) = &query.owner {
        sql.push(" AND i.owner = ").bind(owner.as_str());
    }
    // A rare tag or property as an `IN` subquery: the planner may then start
    // from the tag's or the property's index and look the few images up. A
    // common one as a correlated `EXISTS`: the planner walks the images in
    // the page's order, probes each one's child row and stops at the limit
    // (see `Common`).
    for (n, tag) in query.tags.iter().enumerate() {
        if common.tags.get(n).copied().unwrap_or(false) {
            sql.push(
                " AND EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.value = ",
            )
            .bind(tag.as_str())
            .push(")");
        } else {
            sql.push(" AND i.id IN (SELECT t.image_id FROM image_tags t WHERE t.value = ")
                .bind(tag.as_str())
                .push(")");
        }
    }
    if let Some(min) = query.size_min {
        sql.push(" AND i.size >= ").bind(min);
    }
    if let Some(max) = query.size_max {
        sql.push(" AND i.size <= ").bind(max);
    }
    if let Some(protected) = query.protected {
        sql.push(" AND i.protected = ").bind(flag(protected));
    }
    if let Some(hidden) = query.os_hidden {
        sql.push(" AND i.os_hidden = ").bind(flag(hidden));
    }
    if let Some(checksum) = &query.checksum {
        sql.push(" AND i.checksum = ").bind(checksum.as_str());
    }
    if let Some(hash) = &query.os_hash_value {
        sql.push(" AND i.os_hash_value = ").bind(hash.as_str());
    }
    for (column, conditions) in [
        ("i.created_at", &query.created_at),
        ("i.updated_at", &query.updated_at),
    ] {
        for &(op, at) in conditions {
            sql.push(" AND ")
                .push(column)
                .push(operator(op))
                .bind(micros(at));
        }
    }
    for (n, (name, value)) in query.properties.iter().enumerate() {
        if common.properties.get(n).copied().unwrap_or(false) {
            // The primary key (image_id, name) finds the row to compare.
            sql.push(
                " AND EXISTS (SELECT 1 FROM image_properties p WHERE p.image_id = i.id \
                 AND p.name = ",
            )
            .bind(name.as_str())
            .push(" AND p.value = ")
            .bind(value.as_str())
            .push(")");
            continue;
        }
        // The prefix comparison matches the (name, prefix) index; see the migrations.
        sql.push(" AND i.id IN (SELECT p.image_id FROM image_properties p WHERE p.name = ")
            .bind(name.as_str())
            .push(" AND substr(p.value, 1, 200) = substr(")
            .bind(value.as_str())
            .push(", 1, 200) AND p.value = ")
            .bind(value.as_str())
            .push(")");
    }
}

fn operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => " = ",
        CmpOp::Neq => " <> ",
        CmpOp::Gt => " > ",
        CmpOp::Gte => " >= ",
        CmpOp::Lt => " < ",
        CmpOp::Lte => " <= ",
    }
}

/// The requested keys, without repeats, then `created_at` and `id` as
/// tie-breakers in the last requested direction, so that the order is total.
/// No keys at all means Glance's default, newest first.
fn sort_keys(requested: &[(SortKey, SortDir)]) -> Vec<(SortKey, SortDir)> {
    let mut keys: Vec<(SortKey, SortDir)> = Vec::new();
    for &(key, dir) in requested {
        if !keys.iter().any(|&(k, _)| k == key) {
            keys.push((key, dir));
        }
    }
    let dir = keys.last().map_or(SortDir::Desc, |&(_, dir)| dir);
    for tie_breaker in [SortKey::CreatedAt, SortKey::Id] {
        if !keys.iter().any(|&(k, _)| k == tie_breaker) {
            keys.push((tie_breaker, dir));
        }
    }
    keys
}

/// The column of `images` a sort key orders by.
fn column(key: SortKey) -> &'static str {
    match key {
        SortKey::Name => "name",
        SortKey::Status => "status",
        SortKey::ContainerFormat => "container_format",
        SortKey::DiskFormat => "disk_format",
        SortKey::Size => "size",
        SortKey::Id => "id",
        SortKey::CreatedAt => "created_at",
        SortKey::UpdatedAt => "updated_at",
    }
}

fn nullable(key: SortKey) -> bool {
    matches!(
        key,
        SortKey::Name | SortKey::ContainerFormat | SortKey::DiskFormat | SortKey::Size
    )
}

/// The image's value for a sort key, as stored.
fn sort_value(image: &Image, key: SortKey) -> Value {
    match key {
        SortKey::Name => Value::Text(image.name.clone()),
        SortKey::Status => Value::Text(Some(image.status.as_str().to_owned())),
        SortKey::ContainerFormat => Value::Text(image.container_format.clone()),
        SortKey::DiskFormat => Value::Text(image.disk_format.clone()),
        SortKey::Size => Value::Int(image.size),
        SortKey::Id => Value::Text(Some(id_text(image.id))),
        SortKey::CreatedAt => Value::Int(Some(micros(image.created_at))),
        SortKey::UpdatedAt => Value::Int(Some(micros(image.updated_at))),
    }
}

/// NULL is the smallest value everywhere. SQLite and MySQL sort it so by
/// themselves; PostgreSQL puts it last unless told.
fn push_order_by(sql: &mut Sql, keys: &[(SortKey, SortDir)], table: &str) {
    let backend = sql.backend();
    sql.push(" ORDER BY ");
    for (n, &(key, dir)) in keys.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.push(table).push(".").push(column(key));
        sql.push(match dir {
            SortDir::Asc => " ASC",
            SortDir::Desc => " DESC",
        });
        if backend == Backend::Postgres && nullable(key) {
            sql.push(match dir {
                SortDir::Asc => " NULLS FIRST",
                SortDir::Desc => " NULLS LAST",
            });
        }
    }
}

/// Rows that come strictly after `marker` in the order `keys`. Directions
/// may differ per key, so the tuple comparison is spelled out:
/// `k1 after m1 OR (k1 = m1 AND k2 after m2) OR …`, with NULL as the
/// smallest value. The order is total (it ends in `id`), so every row is
/// either the marker, before it or after it.
///
/// A range on the first key alone is added in front, so the database can
/// start an index scan at the marker instead of testing every row.
fn push_after_marker(sql: &mut Sql, keys: &[(SortKey, SortDir)], marker: &Image) {
    let values: Vec<Value> = keys
        .iter()
        .map(|&(key, _)| sort_value(marker, key))
        .collect();
    sql.push("(");
    let ranged = push_first_key_range(sql, keys[0], &values[0]);
    if ranged {
        sql.push(" AND (");
    }
    for (i, &(key, dir)) in keys.iter().enumerate() {
        if i > 0 {
            sql.push(" OR (");
            for (&(equal_key, _), value) in keys[..i].iter().zip(&values) {
                push_equal(sql, equal_key, value);
                sql.push(" AND ");
            }
        }
        push_after(sql, key, dir, &values[i]);
        if i > 0 {
            sql.push(")");
        }
    }
    sql.push(if ranged { "))" } else { ")" });
}

/// `key` at or after `value`, when that is a plain index range; false if
/// nothing was written.
fn push_first_key_range(sql: &mut Sql, (key, dir): (SortKey, SortDir), value: &Value) -> bool {
    match (dir, value.is_null()) {
        (SortDir::Asc, false) => sql
            .push("i.")
            .push(column(key))
            .push(" >= ")
            .bind_value(value.clone()),
        (SortDir::Desc, false) if !nullable(key) => sql
            .push("i.")
            .push(column(key))
            .push(" <= ")
            .bind_value(value.clone()),
        (SortDir::Desc, true) => sql.push("i.").push(column(key)).push(" IS NULL"),
        _ => return false,
    };
    true
}

fn push_equal(sql: &mut Sql, key: SortKey, value: &Value) {
    if value.is_null() {
        sql.push("i.").push(column(key)).push(" IS NULL");
    } else {
        sql.push("i.")
            .push(column(key))
            .push(" = ")
            .bind_value(value.clone());
    }
}

fn push_after(sql: &mut Sql, key: SortKey, dir: SortDir, value: &Value) {
    let column = format!("i.{}", column(key));
    let column = column.as_str();
    match (dir, value.is_null()) {
        (SortDir::Asc, true) => sql.push(column).push(" IS NOT NULL"),
        (SortDir::Asc, false) => sql.push(column).push(" > ").bind_value(value.clone()),
        // NULL is last in descending order: nothing comes after it.
        (SortDir::Desc, true) => sql.push("1 = 0"),
        (SortDir::Desc, false) if nullable(key) => sql
            .push("(")
            .push(column)
            .push(" < ")
            .bind_value(value.clone())
            .push(" OR ")
            .push(column)
            .push(" IS NULL)"),
        (SortDir::Desc, false) => sql.push(column).push(" < ").bind_value(value.clone()),
    };
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    fn marker(name: Option<&str>) -> Image {
        let at = DateTime::from_timestamp_micros(1_000_000).unwrap();
        let mut image = Image::new(Uuid::nil(), Some("p".into()), at);
        image.name = name.map(str::to_owned);
        image
    }

    fn after(backend: Backend, keys: &[(SortKey, SortDir)], marker: &Image) -> String {
        let mut sql = Sql::new(backend);
        push_after_marker(&mut sql, keys, marker);
        sql.text().to_owned()
    }

    #[test]
    fn tie_breakers_follow_the_last_direction_and_are_not_repeated() {
        use SortDir::*;
        use SortKey::*;
        assert_eq!(
            sort_keys(&[(Name, Asc)]),
            [(Name, Asc), (CreatedAt, Asc), (Id, Asc)]
        );
        assert_eq!(
            sort_keys(&[(Name, Asc), (Size, Desc), (Name, Desc)]),
            [(Name, Asc), (Size, Desc), (CreatedAt, Desc), (Id, Desc)]
        );
        assert_eq!(
            sort_keys(&[(Id, Asc), (CreatedAt, Desc)]),
            [(Id, Asc), (CreatedAt, Desc)]
        );
        assert_eq!(sort_keys(&[]), [(CreatedAt, Desc), (Id, Desc)]);
    }

    #[test]
    fn default_order_seeks_with_a_range_on_created_at() {
        let keys = sort_keys(&[]);
        assert_eq!(
            after(Backend::Postgres, &keys, &marker(None)),
            "(i.created_at <= $1 AND (i.created_at < $2 OR (i.created_at = $3 AND i.id < $4)))"
        );
    }

    #[test]
    fn mixed_directions_with_a_null_name_marker() {
        let keys = [
            (SortKey::Name, SortDir::Asc),
            (SortKey::Size, SortDir::Desc),
            (SortKey::Id, SortDir::Asc),
        ];
        // NULL name, ascending: only non-NULL names are after it; the marker's
        // size is NULL too, and nothing is after NULL in descending order.
        assert_eq!(
            after(Backend::Sqlite, &keys, &marker(None)),
            "(i.name IS NOT NULL OR (i.name IS NULL AND 1 = 0) \
             OR (i.name IS NULL AND i.size IS NULL AND i.id > ?))"
        );
    }

    #[test]
    fn descending_nullable_key_keeps_nulls_after_values() {
        let keys = [(SortKey::Name, SortDir::Desc), (SortKey::Id, SortDir::Desc)];
        assert_eq!(
            after(Backend::MySql, &keys, &marker(Some("b"))),
            "((i.name < ? OR i.name IS NULL) OR (i.name = ? AND i.id < ?))"
        );
        assert_eq!(
            after(Backend::MySql, &keys, &marker(None)),
            "(i.name IS NULL AND (1 = 0 OR (i.name IS NULL AND i.id < ?)))"
        );
    }

    #[test]
    fn postgres_orders_nulls_first_ascending_and_last_descending() {
        let mut sql = Sql::new(Backend::Postgres);
        push_order_by(
            &mut sql,
            &[
                (SortKey::Name, SortDir::Asc),
                (SortKey::Size, SortDir::Desc),
                (SortKey::Id, SortDir::Desc),
            ],
            "i",
        );
        assert_eq!(
            sql.text(),
            " ORDER BY i.name ASC NULLS FIRST, i.size DESC NULLS LAST, i.id DESC"
        );
        let mut sql = Sql::new(Backend::Sqlite);
        push_order_by(&mut sql, &[(SortKey::Name, SortDir::Asc)], "page");
        assert_eq!(sql.text(), " ORDER BY page.name ASC");
    }

    #[test]
    fn regular_user_sees_public_owned_and_accepted_shares() {
        let mut sql = Sql::new(Backend::Sqlite);
        let scope = Scope {
            is_admin: false,
            project_id: Some("p".into()),
        };
        push_visibility(&mut sql, &scope, None, Some("accepted"));
        assert_eq!(
            sql.text(),
            " AND (i.visibility = 'public' OR i.owner = ? OR EXISTS (SELECT 1 FROM image_members m \
             WHERE m.image_id = i.id AND m.member = ? AND m.status = 'accepted' \
             AND i.visibility = 'shared'))"
        );
    }
}
