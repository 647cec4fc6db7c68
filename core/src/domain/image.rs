//! The image record, as the API shows it and the database keeps it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::status::{ImageStatus, StatusChange, TransitionError};

/// Who may see an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
    Shared,
    Community,
}

impl Visibility {
    pub const ALL: [Visibility; 4] = [Self::Public, Self::Private, Self::Shared, Self::Community];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Shared => "shared",
            Self::Community => "community",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where one copy of an image's data lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// The driver's location string, e.g. `file:///var/lib/glint/images/<id>`.
    pub url: String,
    /// Free-form metadata; `store` names the store that holds the copy.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// `active`, or `pending_delete` / `deleted` while the copy is being removed.
    pub status: String,
}

impl Location {
    pub fn store(&self) -> Option<&str> {
        self.metadata.get("store").and_then(|s| s.as_str())
    }
}

/// One image. Base properties are typed fields; everything else is a string
/// `properties` entry ("extra properties" in Glance's words).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: Uuid,
    pub name: Option<String>,
    pub status: ImageStatus,
    pub visibility: Visibility,
    pub protected: bool,
    pub os_hidden: bool,
    /// md5 of the data, hex.
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub owner: Option<String>,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub container_format: Option<String>,
    pub disk_format: Option<String>,
    pub min_disk: i64,
    pub min_ram: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub tags: BTreeSet<String>,
    pub properties: BTreeMap<String, String>,
    pub locations: Vec<Location>,
}

impl Image {
    /// Moves the image to `to` if the state machine allows it from its current
    /// status, and, when data is about to arrive, both formats are set (Glance's
    /// status setter). This is the only place an image's status changes; the
    /// returned change carries the status the stored row must still have.
    pub fn move_to(&mut self, to: ImageStatus) -> Result<StatusChange, TransitionError> {
        let change = self.status.check_move(to)?;
        if self.status.needs_formats_to_leave(to) {
            let missing: Vec<&'static str> = [
                ("disk_format", self.disk_format.is_none()),
                ("container_format", self.container_format.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            if !missing.is_empty() {
                return Err(TransitionError::MissingFormats { missing });
            }
        }
        self.status = to;
        Ok(change)
    }

    /// [`Image::move_to`] on a copy: the image as it will be, and the change.
    pub fn moved_to(&self, to: ImageStatus) -> Result<(Image, StatusChange), TransitionError> {
        let mut next = self.clone();
        let change = next.move_to(to)?;
        Ok((next, change))
    }

    /// A fresh `queued` image with Glance's defaults.
    pub fn new(id: Uuid, owner: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            id,
            name: None,
            status: ImageStatus::Queued,
            visibility: Visibility::Shared,
            protected: false,
            os_hidden: false,
            checksum: None,
            os_hash_algo: None,
            os_hash_value: None,
            owner,
            size: None,
            virtual_size: None,
            container_format: None,
            disk_format: None,
            min_disk: 0,
            min_ram: 0,
            created_at: now,
            updated_at: now,
            tags: BTreeSet::new(),
            properties: BTreeMap::new(),
            locations: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued() -> Image {
        Image::new(Uuid::nil(), None, Utc::now())
    }

    #[test]
    fn move_to_changes_the_status_and_reports_where_from() {
        let mut image = queued();
        image.disk_format = Some("raw".into());
        image.container_format = Some("bare".into());
        let change = image.move_to(ImageStatus::Saving).unwrap();
        assert_eq!(
            (change.from, change.to),
            (ImageStatus::Queued, ImageStatus::Saving)
        );
        assert_eq!(image.status, ImageStatus::Saving);
    }

    #[test]
    fn a_refused_move_leaves_the_image_as_it_was() {
        let mut image = queued();
        let err = image.move_to(ImageStatus::Saving).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Properties disk_format, container_format must be set prior to saving data."
        );
        assert_eq!(image.status, ImageStatus::Queued);
        image.disk_format = Some("raw".into());
        assert_eq!(
            image.move_to(ImageStatus::Active).unwrap_err().to_string(),
            "Property container_format must be set prior to saving data."
        );
        assert!(matches!(
            image.move_to(ImageStatus::Deactivated),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn leaving_for_deletion_needs_no_formats() {
        let (next, _) = queued().moved_to(ImageStatus::Deleted).unwrap();
        assert_eq!(next.status, ImageStatus::Deleted);
    }
}
