//! Image members: the projects a `shared` image is shared with.

use sqlx::AnyConnection;
use uuid::Uuid;

use super::codec::{id_text, micros, now};
use super::error::is_unique_violation;
use super::images::{Lock, fetch_image};
use super::sql::Sql;
use super::{Backend, Database, DbError};

/// A member's answer to the share; only `Accepted` puts the image in the
/// member's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Pending,
    Accepted,
    Rejected,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
}

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
