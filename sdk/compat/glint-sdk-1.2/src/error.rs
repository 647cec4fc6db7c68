//! The store error vocabulary shared by plugins and the host.

use std::fmt;

/// What went wrong, in glance_store's vocabulary.
///
/// Across the plugin boundary a kind travels as a plain `u32` code ([`ErrorKind::code`]); a code this
/// SDK does not know (sent by a newer plugin or host) arrives as [`ErrorKind::Other`] instead of
/// being reinterpreted, so mixing versions never produces an invalid enum value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The image or location does not exist.
    NotFound,
    /// An object already exists for this image id.
    AlreadyExists,
    /// The backend is out of space or quota.
    StorageFull,
    /// The backend refused access, or the location lies outside the store.
    PermissionDenied,
    /// The store's configuration is invalid; the message names the option.
    ConfigInvalid,
    /// The driver does not support the operation (see [`crate::Capabilities`]).
    Unsupported,
    /// The backend cannot be reached right now.
    Unavailable,
    /// The object is in use and cannot be changed now.
    InUse,
    /// The backend did not answer in time.
    Timeout,
    /// The requested range starts at or beyond the end of the object.
    RangeNotSatisfiable,
    /// Anything else, including a panic inside a plugin.
    Unexpected,
    /// A code unknown to this SDK version.
    Other(u32),
}

impl ErrorKind {
    const KNOWN: [(ErrorKind, u32, &'static str); 11] = [
        (ErrorKind::NotFound, 1, "not found"),
        (ErrorKind::AlreadyExists, 2, "already exists"),
        (ErrorKind::StorageFull, 3, "storage full"),
        (ErrorKind::PermissionDenied, 4, "permission denied"),
        (ErrorKind::ConfigInvalid, 5, "invalid configuration"),
        (ErrorKind::Unsupported, 6, "unsupported"),
        (ErrorKind::Unavailable, 7, "unavailable"),
        (ErrorKind::InUse, 8, "in use"),
        (ErrorKind::Timeout, 9, "timeout"),
        (ErrorKind::RangeNotSatisfiable, 10, "range not satisfiable"),
        (ErrorKind::Unexpected, 11, "unexpected error"),
    ];

    /// The stable wire code of this kind. Codes are never reused or renumbered.
    pub fn code(self) -> u32 {
        match self {
            ErrorKind::Other(code) => code,
            known => Self::KNOWN
                .iter()
                .find(|(kind, _, _)| *kind == known)
                .map(|(_, code, _)| *code)
                .expect("every named kind has a code"),
        }
    }

    /// The kind for a wire code; unknown codes become [`ErrorKind::Other`].
    pub fn from_code(code: u32) -> Self {
        Self::KNOWN
            .iter()
            .find(|(_, known, _)| *known == code)
            .map_or(ErrorKind::Other(code), |(kind, _, _)| *kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Other(code) => write!(f, "error code {code}"),
            known => {
                let (_, _, text) = Self::KNOWN
                    .iter()
                    .find(|(kind, _, _)| kind == known)
                    .expect("every named kind has a text");
                f.write_str(text)
            }
        }
    }
}

/// The error every store operation returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// A human-readable explanation, for logs and API error bodies.
    pub message: String,
    /// Whether retrying the same operation later may succeed.
    pub temporary: bool,
}

impl StoreError {
    /// A permanent error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            temporary: false,
        }
    }

    /// The same error, marked as worth retrying.
    pub fn temporary(mut self) -> Self {
        self.temporary = true;
        self
    }

    /// Shorthand for an [`ErrorKind::Unsupported`] error.
    pub fn unsupported(operation: &str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("the driver does not support {operation}"),
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if self.temporary {
            f.write_str(" (temporary)")?;
        }
        Ok(())
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_become_other() {
        for (kind, code, _) in ErrorKind::KNOWN {
            assert_eq!(kind.code(), code);
            assert_eq!(ErrorKind::from_code(code), kind);
        }
        assert_eq!(ErrorKind::from_code(0), ErrorKind::Other(0));
        assert_eq!(ErrorKind::from_code(4096), ErrorKind::Other(4096));
        assert_eq!(ErrorKind::Other(4096).code(), 4096);
    }

    #[test]
    fn display_names_kind_message_and_temporariness() {
        let err = StoreError::new(ErrorKind::Unavailable, "backend down").temporary();
        assert_eq!(err.to_string(), "unavailable: backend down (temporary)");
        assert_eq!(
            StoreError::new(ErrorKind::Other(77), "x").to_string(),
            "error code 77: x"
        );
    }
}
