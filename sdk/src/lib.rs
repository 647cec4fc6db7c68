//! Glint plugin SDK.
