//! URLs as messages, task records and logs may show them.

use reqwest::Url;

/// `url` without its password; an unparsable URL is not shown at all, since
/// nothing says where its secrets are.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact("http://glance:secret@h/x"), "http://glance:***@h/x");
        assert_eq!(
            redact("https://:secret@h:8443/x?y"),
            "https://:***@h:8443/x?y"
        );
    }

    #[test]
    fn everything_else_is_shown_as_given() {
        assert_eq!(redact("http://h/x"), "http://h/x");
        assert_eq!(redact("http://user@h/x"), "http://user@h/x");
        assert_eq!(redact("HTTP://H/x"), "HTTP://H/x");
    }

    #[test]
    fn an_unparsable_url_is_hidden() {
        assert_eq!(redact("http://glance:secret@[bad/x"), "<unparsable URL>");
        assert_eq!(redact(""), "<unparsable URL>");
    }
}
