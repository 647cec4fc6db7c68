//! Image members: the projects a `shared` image is shared with.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

use super::codec::{id_text, invalid, micros, now, parse_id, timestamp};
use super::error::is_unique_violation;
use super::images::{Lock, fetch_image};
use super::sql::Sql;
use super::{Backend, Database, DbError};
use crate::domain::{Member, MemberStatus};

impl Database {
    /// Shares an image with `member` (a project id), status `pending`.
    /// `NotFound` for a missing or deleted image, `Duplicate` if already shared.
    pub async fn add_member(&self, image_id: Uuid, member: &str) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        fetch_image(&mut tx, self.backend, image_id, Lock::ForUpdate)
            .await?
            .ok_or(DbError::NotFound)?;
        let now = micros(now());
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
        tx.commit().await?;
        Ok(())
    }

    /// Records a member's answer; `NotFound` if the image is not shared with it.
    pub async fn set_member_status(
        &self,
        image_id: Uuid,
        member: &str,
        status: MemberStatus,
    ) -> Result<(), DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("UPDATE image_members SET status = ")
            .bind(status.as_str())
            .push(", updated_at = ")
            .bind(micros(now()))
            .push(" WHERE image_id = ")
            .bind(id_text(image_id))
            .push(" AND member = ")
            .bind(member);
        let mut tx = self.begin_write().await?;
        if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Database {
    /// The members of an image, oldest first.
    pub async fn list_members(&self, image_id: Uuid) -> Result<Vec<Member>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(MEMBER_SELECT)
            .push(" WHERE image_id = ")
            .bind(id_text(image_id))
            .push(" ORDER BY created_at, member");
        let rows = sql.build()?.fetch_all(&self.reader).await?;
        rows.iter().map(member_from_row).collect()
    }

    /// One member of an image, if the image is shared with it.
    pub async fn get_member(
        &self,
        image_id: Uuid,
        member: &str,
    ) -> Result<Option<Member>, DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push(MEMBER_SELECT)
            .push(" WHERE image_id = ")
            .bind(id_text(image_id))
            .push(" AND member = ")
            .bind(member);
        let row = sql.build()?.fetch_optional(&self.reader).await?;
        row.as_ref().map(member_from_row).transpose()
    }

    /// Ends a share; `NotFound` if the image is not shared with `member`.
    pub async fn delete_member(&self, image_id: Uuid, member: &str) -> Result<(), DbError> {
        let mut sql = Sql::new(self.backend);
        sql.push("DELETE FROM image_members WHERE image_id = ")
            .bind(id_text(image_id))
            .push(" AND member = ")
            .bind(member);
        let mut tx = self.begin_write().await?;
        if sql.build()?.execute(&mut *tx).await?.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        tx.commit().await?;
        Ok(())
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
