//! Store conformance kit.
