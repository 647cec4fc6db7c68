//! The image status state machine, as Glance defines it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    Queued,
    Saving,
    Uploading,
    Importing,
    Active,
    Killed,
    PendingDelete,
    Deactivated,
    Deleted,
}

impl ImageStatus {
    pub const ALL: [ImageStatus; 9] = [
        Self::Queued,
        Self::Saving,
        Self::Uploading,
        Self::Importing,
        Self::Active,
        Self::Killed,
        Self::PendingDelete,
        Self::Deactivated,
        Self::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Saving => "saving",
            Self::Uploading => "uploading",
            Self::Importing => "importing",
            Self::Active => "active",
            Self::Killed => "killed",
            Self::PendingDelete => "pending_delete",
            Self::Deactivated => "deactivated",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The statuses this one may move to.
    pub fn targets(self) -> &'static [ImageStatus] {
        use ImageStatus::*;
        match self {
            Queued => &[Saving, Uploading, Importing, Active, Deleted],
            // Back to queued: a failed upload may be retried.
            Saving => &[Active, Killed, Deleted, Queued],
            Uploading => &[Importing, Queued, Deleted],
            Importing => &[Active, Deleted, Queued],
            Active => &[PendingDelete, Deleted, Deactivated],
            Killed => &[Deleted],
            // Back to active: the scrubber's restore.
            PendingDelete => &[Deleted, Active],
            Deactivated => &[Active, Deleted],
            Deleted => &[],
        }
    }

    pub fn can_move_to(self, to: ImageStatus) -> bool {
        self.targets().contains(&to)
    }

    /// Leaving these statuses for one that has data needs both formats set.
    pub fn needs_formats_to_leave(self, to: ImageStatus) -> bool {
        matches!(self, Self::Queued | Self::Uploading)
            && matches!(to, Self::Saving | Self::Active | Self::Importing)
    }
}

/// A move the state machine allowed: the status the image had and the one it
/// now has. Writers pass `from` to the database as the status the stored row
/// must still have, so two racing requests cannot both make the same move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub from: ImageStatus,
    pub to: ImageStatus,
}

/// Why the state machine refused a move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("Image status transition from {from} to {to} is not allowed")]
    NotAllowed { from: ImageStatus, to: ImageStatus },
    /// Data may only arrive once both formats are known; names the missing ones.
    #[error("{}", missing_formats_message(.missing))]
    MissingFormats { missing: Vec<&'static str> },
}

fn missing_formats_message(missing: &[&'static str]) -> String {
    let noun = if missing.len() == 1 {
        "Property"
    } else {
        "Properties"
    };
    format!(
        "{noun} {} must be set prior to saving data.",
        missing.join(", ")
    )
}

impl ImageStatus {
    /// Checks a move by the state machine alone (formats are checked by
    /// [`crate::domain::Image::move_to`], which knows them).
    pub fn check_move(self, to: ImageStatus) -> Result<StatusChange, TransitionError> {
        if self.can_move_to(to) {
            Ok(StatusChange { from: self, to })
        } else {
            Err(TransitionError::NotAllowed { from: self, to })
        }
    }
}

impl std::fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ImageStatus::{self, *};

    #[test]
    fn every_status_round_trips_through_its_name() {
        for s in ImageStatus::ALL {
            assert_eq!(ImageStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ImageStatus::parse("Active"), None);
    }

    #[test]
    fn upload_path_is_allowed_and_retry_goes_back_to_queued() {
        assert!(Queued.can_move_to(Saving));
        assert!(Saving.can_move_to(Active));
        assert!(Saving.can_move_to(Queued));
        assert!(!Active.can_move_to(Saving));
        assert!(!Active.can_move_to(Queued));
    }

    #[test]
    fn deleted_is_terminal_and_killed_only_goes_to_deleted() {
        assert!(Deleted.targets().is_empty());
        assert_eq!(Killed.targets(), &[Deleted]);
        for s in ImageStatus::ALL {
            assert!(!s.can_move_to(s), "{s} must not move to itself");
        }
    }

    #[test]
    fn deactivation_is_symmetric() {
        assert!(Active.can_move_to(Deactivated));
        assert!(Deactivated.can_move_to(Active));
        assert!(!Queued.can_move_to(Deactivated));
    }

    #[test]
    fn check_move_returns_the_change_or_names_both_ends() {
        assert_eq!(
            Queued.check_move(Saving),
            Ok(super::StatusChange {
                from: Queued,
                to: Saving
            })
        );
        let err = Saving.check_move(Saving).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Image status transition from saving to saving is not allowed"
        );
    }

    #[test]
    fn formats_are_required_only_when_data_arrives() {
        assert!(Queued.needs_formats_to_leave(Saving));
        assert!(Uploading.needs_formats_to_leave(Importing));
        assert!(!Queued.needs_formats_to_leave(Deleted));
        assert!(!Saving.needs_formats_to_leave(Active));
    }
}
