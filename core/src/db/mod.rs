//! Metadata database.
