//! Names drivers turn into backend object names.

/// The longest name [`is_safe_name`] accepts: a common file-name limit.
pub const MAX_SAFE_NAME_LEN: usize = 255;

/// Whether `name` can become one backend path component or object name as is: ASCII letters,
/// digits, `-`, `_` and `.`, not starting with `.` (so never `.`/`..` nor a hidden temporary
/// object), without a separator, at most [`MAX_SAFE_NAME_LEN`] bytes. UUIDs qualify.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SAFE_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_names() {
        assert!(is_safe_name("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
        assert!(is_safe_name("a.b_c-d"));
        assert!(is_safe_name(&"x".repeat(MAX_SAFE_NAME_LEN)));
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a b",
            "é",
            "a\0b",
            &"x".repeat(MAX_SAFE_NAME_LEN + 1),
        ] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
    }
}
