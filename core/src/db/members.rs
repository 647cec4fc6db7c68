//! Image members: the projects a `shared` image is shared with.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::codec::{id_text, invalid, micros, now, parse_id, timestamp};
use super::error::is_unique_violation;
use super::images::{Lock, fetch_image};
use super::notifications::insert_notifications;
use super::sql::Sql;
use super::{Backend, Database, DbError, NewNotification};
use crate::domain::{Member, MemberStatus};

impl Database {
    /// Shares an image with `member` (a project id), status `pending`.
    /// `NotFound` for a missing or deleted image, `Duplicate` if already shared.
    pub async fn add_member(&self, image_id: Uuid, member: &str) -> Result<(), DbError> {
        self.add_member_noting(image_id, member, |_| Vec::new())
            .await
            .map(drop)
    }

    /// [`Database::add_member`] with the notifications it causes, made by
    /// `notes` from the new member, written in the same transaction.
    /// Returns the member.
    pub async fn add_member_noting(
        &self,
        image_id: Uuid,
        member: &str,
        mut notes: impl FnMut(&Member) -> Vec<NewNotification> + Send,
    ) -> Result<Member, DbError> {
        retrying!(self, "add_member", async {
            let mut tx = self.begin_write().await?;
            fetch_image(&mut tx, self.backend, image_id, Lock::ForUpdate)
                .await?
                .ok_or(DbError::NotFound)?;
            let created_at = now();
            let created = Member {
                image_id,
                member: member.to_owned(),
                status: MemberStatus::Pending,
                created_at,
                updated_at: created_at,
            };
            let now = micros(created.created_at);
            let mut sql = Sql::new(self.backend);
            sql.push(
                "INSERT INTO image_members (image_id, member, status, can_share, created_at, updated_at) \
                 VALUES (",
            )
            .bind(id_text(image_id))
            .push(", ")
            .bind(member)
            .push(", ")
            .bind(MemberStatus::Pending.as_str())
            .push(", 0, ")
            .bind(now)
            .push(", ")
            .bind(now)
            .push(")");
            match sql.build()?.execute(&mut *tx).await {
                Err(err) if is_unique_violation(&err) => return Err(DbError::Duplicate),
                result => result?,
            };
            insert_notifications(&mut tx, self.backend, &notes(&created)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(created)
        })
    }

    /// Records a member's answer; `NotFound` if the image is not shared with it.
    pub async fn set_member_status(
        &self,
        image_id: Uuid,
        member: &str,
        status: MemberStatus,
    ) -> Result<(), DbError> {
        self.set_member_status_noting(image_id, member, status, |_| Vec::new())
            .await
    }

    /// [`Database::set_member_status`] with the notifications it causes,
    /// made by `notes` from the new `updated_at`, written in the same transaction.
    pub async fn set_member_status_noting(
        &self,
        image_id: Uuid,
        member: &str,
        status: MemberStatus,
        mut notes: impl FnMut(DateTime<Utc>) -> Vec<NewNotification> + Send,
    ) -> Result<(), DbError> {
        retrying!(self, "set_member_status", async {
            let updated_at = now();
            let mut sql = Sql::new(self.backend);
            sql.push("UPDATE image_members SET status = ")
                .bind(status.as_str())
                .push(", updated_at = ")
                .bind(micros(updated_at))
                .push(" WHERE image_id = ")
                .bind(id_text(image_id))
                .push(" AND member = ")
                .bind(member);
            let mut tx = self.begin_write().await?;
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            insert_notifications(&mut tx, self.backend, &notes(updated_at)).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }
}

impl Database {
    /// The members of an image, oldest first.
    pub async fn list_members(&self, image_id: Uuid) -> Result<Vec<Member>, DbError> {
        retrying!(self, "list_members", async {
            let mut sql = Sql::new(self.backend);
            sql.push(MEMBER_SELECT)
                .push(" WHERE image_id = ")
                .bind(id_text(image_id))
                .push(" ORDER BY created_at, member");
            let rows = sql.build()?.fetch_all(&self.reader).await?;
            rows.iter().map(member_from_row).collect()
        })
    }

    /// One member of an image, if the image is shared with it.
    pub async fn get_member(
        &self,
        image_id: Uuid,
        member: &str,
    ) -> Result<Option<Member>, DbError> {
        retrying!(self, "get_member", async {
            let mut sql = Sql::new(self.backend);
            sql.push(MEMBER_SELECT)
                .push(" WHERE image_id = ")
                .bind(id_text(image_id))
                .push(" AND member = ")
                .bind(member);
            let row = sql.build()?.fetch_optional(&self.reader).await?;
            row.as_ref().map(member_from_row).transpose()
        })
    }

    /// Ends a share; `NotFound` if the image is not shared with `member`.
    pub async fn delete_member(&self, image_id: Uuid, member: &str) -> Result<(), DbError> {
        self.delete_member_noting(image_id, member, &[]).await
    }

    /// [`Database::delete_member`] with the notifications it causes,
    /// written in the same transaction.
    pub async fn delete_member_noting(
        &self,
        image_id: Uuid,
        member: &str,
        notes: &[NewNotification],
    ) -> Result<(), DbError> {
        retrying!(self, "delete_member", async {
            let mut sql = Sql::new(self.backend);
            sql.push("DELETE FROM image_members WHERE image_id = ")
                .bind(id_text(image_id))
                .push(" AND member = ")
                .bind(member);
            let mut tx = self.begin_write().await?;
            if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            insert_notifications(&mut tx, self.backend, notes).await?;
            self.commit(tx).await?;
            Ok::<_, DbError>(())
        })
    }
}

const MEMBER_SELECT: &str =
    "SELECT image_id, member, status, created_at, updated_at FROM image_members";

fn member_from_row(row: &AnyRow) -> Result<Member, DbError> {
    let image_id: String = row.try_get("image_id")?;
    let status: String = row.try_get("status")?;
    Ok(Member {
        image_id: parse_id("image_id", &image_id)?,
        member: row.try_get("member")?,
        status: MemberStatus::parse(&status).ok_or_else(|| invalid("status", &status))?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

/// Whether `member` is a member of the image, whatever its status.
pub(crate) async fn is_member(
    conn: &mut AnyConnection,
    backend: Backend,
    image_id: Uuid,
    member: &str,
) -> Result<bool, DbError> {
    let mut sql = Sql::new(backend);
    sql.push("SELECT 1 AS one FROM image_members WHERE image_id = ")
        .bind(id_text(image_id))
        .push(" AND member = ")
        .bind(member);
    Ok(sql.build()?.fetch_optional(&mut *conn).await?.is_some())
}
