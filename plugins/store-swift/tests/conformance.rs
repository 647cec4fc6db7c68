//! The swift store through the real loader, against a real Swift (tempauth): the conformance
//! suite with single objects, and again with Static Large Objects of small segments.

mod support;

use support::{options, plugin, segmented_options};

glint_sdk_testkit::store_conformance_suite!(plugin(), options);

/// Every image of a MiB or more is a Static Large Object of 256 KiB segments here.
mod segmented {
    use super::*;

    glint_sdk_testkit::store_conformance_suite!(plugin(), segmented_options);
}
