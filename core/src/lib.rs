//! Glint core.
