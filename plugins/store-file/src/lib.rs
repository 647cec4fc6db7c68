//! File store driver.
