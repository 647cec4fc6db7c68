//! Tasks: one row each, JSON input and result as text.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::codec::{id_text, invalid, micros, parse_id, timestamp};
use super::notifications::insert_notifications;
use super::sql::Sql;
use super::{Database, DbError, NewNotification};
use crate::domain::{Task, TaskStatus};

const TASK_COLUMNS: &str = "id, type, status, owner, input, result, message, image_id, \
     request_id, user_id, expires_at, created_at, updated_at";

/// What `GET /v2/tasks` asks for.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// `None` for administrators: every owner.
    pub owner: Option<String>,
    pub kind: Option<String>,
    pub status: Option<TaskStatus>,
    /// `created_at`, `updated_at`, `id`, `type`, `status` or `expires_at`.
    pub sort_key: &'static str,
    pub ascending: bool,
    pub marker: Option<Uuid>,
    pub limit: u32,
}

impl Database {
    pub async fn create_task(&self, task: &Task) -> Result<(), DbError> {
        self.create_task_noting(task, &[]).await
    }

    /// [`Database::create_task`] with the notifications it causes, written
    /// in the same transaction.
    pub async fn create_task_noting(
        &self,
        task: &Task,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "create_task", async {
            let mut sql = Sql::new(self.backend);
            sql.push("INSERT INTO tasks (")
                .push(TASK_COLUMNS)
                .push(", deleted) VALUES (")
                .bind(id_text(task.id))
                .push(", ")
                .bind(task.kind.as_str())
                .push(", ")
                .bind(task.status.as_str())
                .push(", ")
                .bind(task.owner.clone())
                .push(", ")
                .bind(json_text(&task.input))
                .push(", ")
                .bind(task.result.as_ref().map(json_text))
                .push(", ")
                .bind(task.message.as_str())
                .push(", ")
                .bind(task.image_id.map(id_text))
                .push(", ")
                .bind(task.request_id.clone())
                .push(", ")
                .bind(task.user_id.clone())
                .push(", ")
                .bind(task.expires_at.map(micros))
                .push(", ")
                .bind(micros(task.created_at))
                .push(", ")
                .bind(micros(task.updated_at))
                .push(", 0)");
            let mut tx = self.begin_write().await?;
            sql.build()?.execute(&mut *tx).await?;
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    pub async fn get_task(&self, id: Uuid) -> Result<Option<Task>, DbError> {
        retrying!(self, "get_task", async {
            let mut sql = Sql::new(self.backend);
            sql.push("SELECT ")
                .push(TASK_COLUMNS)
                .push(" FROM tasks WHERE deleted = 0 AND id = ")
                .bind(id_text(id));
            let row = sql.build()?.fetch_optional(&self.reader).await?;
            row.as_ref().map(task_from_row).transpose()
        })
    }

    /// Records a task's progress: status, result, message and expiry.
    pub async fn update_task(&self, task: &Task) -> Result<(), DbError> {
        self.update_task_noting(task, &[]).await
    }

    /// [`Database::update_task`] with the notifications it causes, written
    /// in the same transaction.
    pub async fn update_task_noting(
        &self,
        task: &Task,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "update_task", async {
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE tasks SET status = ")
                .bind(task.status.as_str())
                .push(", result = ")
                .bind(task.result.as_ref().map(json_text))
                .push(", message = ")
                .bind(task.message.as_str())
                .push(", expires_at = ")
                .bind(task.expires_at.map(micros))
                .push(", updated_at = ")
                .bind(micros(task.updated_at))
                .push(" WHERE id = ")
                .bind(id_text(task.id));
            let mut tx = self.begin_write().await?;
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// Removes the tasks whose `expires_at` is before `now`, as Glance
    /// removes expired tasks: marked deleted, so no longer listed or shown,
    /// with `updated_at` the deletion time (what `glint db purge` goes by).
    /// Returns how many.
    pub async fn expire_tasks(&self, now: DateTime<Utc>) -> Result<u64, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("UPDATE tasks SET deleted = 1, updated_at = ")
            .bind(micros(now))
            .push(" WHERE deleted = 0 AND expires_at IS NOT NULL AND expires_at < ")
            .bind(micros(now));
        let mut tx = self.begin_write().await?;
        let expired = sql.build()?.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(expired)
    }

    /// Records an import's progress as the task's message, while the task is still at work (a
    /// finished task keeps what its end wrote).
    pub async fn set_task_progress(
        &self,
        id: Uuid,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        retrying!(self, "set_task_progress", async {
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE tasks SET message = ")
                .bind(message)
                .push(", updated_at = ")
                .bind(micros(now))
                .push(" WHERE id = ")
                .bind(id_text(id))
                .push(" AND status = ")
                .bind(TaskStatus::Processing.as_str());
            let mut tx = self.begin_write().await?;
            sql.build()?.execute(&mut *tx).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }

    /// The tasks that worked on an image, newest first.
    pub async fn image_tasks(&self, image_id: Uuid) -> Result<Vec<Task>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT ")
            .push(TASK_COLUMNS)
            .push(" FROM tasks WHERE deleted = 0 AND image_id = ")
            .bind(id_text(image_id))
            .push(" ORDER BY created_at DESC, id DESC");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(task_from_row).collect()
    }

    /// A page of tasks. `MarkerNotFound` when the marker names no task the
    /// query may see.
    pub async fn list_tasks(&self, q: &TaskQuery) -> Result<Vec<Task>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("SELECT ")
            .push(TASK_COLUMNS)
            .push(" FROM tasks WHERE deleted = 0");
        if let Some(owner) = &q.owner {
            sql.push(" AND owner = ").bind(owner.clone());
        }
        if let Some(kind) = &q.kind {
            sql.push(" AND type = ").bind(kind.clone());
        }
        if let Some(status) = q.status {
            sql.push(" AND status = ").bind(status.as_str());
        }
        let key = q.sort_key;
        let (cmp, dir) = if q.ascending {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some(marker) = q.marker {
            let Some(m) = self.get_task(marker).await? else {
                return Err(DbError::MarkerNotFound);
            };
            if q.owner.is_some() && m.owner != q.owner {
                return Err(DbError::MarkerNotFound);
            }
            let value = sort_value(&m, key);
            sql.push(" AND (")
                .push(key)
                .push(&format!(" {cmp} "))
                .bind_value(value.clone())
                .push(" OR (")
                .push(key)
                .push(" = ")
                .bind_value(value)
                .push(&format!(" AND id {cmp} "))
                .bind(id_text(m.id))
                .push("))");
        }
        sql.push(&format!(" ORDER BY {key} {dir}, id {dir} LIMIT "))
            .bind(i64::from(q.limit));
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(task_from_row).collect()
    }
}

fn sort_value(t: &Task, key: &str) -> super::sql::Value {
    use super::sql::Value as V;
    match key {
        "updated_at" => V::Int(Some(micros(t.updated_at))),
        "expires_at" => V::Int(t.expires_at.map(micros)),
        "id" => V::Text(Some(id_text(t.id))),
        "type" => V::Text(Some(t.kind.clone())),
        "status" => V::Text(Some(t.status.as_str().to_owned())),
        _ => V::Int(Some(micros(t.created_at))),
    }
}

fn json_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

fn json_map(column: &'static str, text: &str) -> Result<Map<String, Value>, DbError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid(column, text)),
    }
}

fn optional_time(row: &AnyRow, column: &'static str) -> Result<Option<DateTime<Utc>>, DbError> {
    let value: Option<i64> = row.try_get(column)?;
    value
        .map(|v| DateTime::from_timestamp_micros(v).ok_or_else(|| invalid(column, v)))
        .transpose()
}

fn task_from_row(row: &AnyRow) -> Result<Task, DbError> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let input: String = row.try_get("input")?;
    let result: Option<String> = row.try_get("result")?;
    let image_id: Option<String> = row.try_get("image_id")?;
    Ok(Task {
        id: parse_id("tasks.id", &id)?,
        kind: row.try_get("type")?,
        status: TaskStatus::parse(&status).ok_or_else(|| invalid("tasks.status", &status))?,
        owner: row.try_get("owner")?,
        input: json_map("tasks.input", &input)?,
        result: result
            .as_deref()
            .map(|r| json_map("tasks.result", r))
            .transpose()?,
        message: row.try_get("message")?,
        image_id: image_id
            .as_deref()
            .map(|i| parse_id("tasks.image_id", i))
            .transpose()?,
        request_id: row.try_get("request_id")?,
        user_id: row.try_get("user_id")?,
        expires_at: optional_time(row, "expires_at")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}
