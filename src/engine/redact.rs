//! Masking of secrets in URLs and headers, so that no output carries them.

use std::borrow::Cow;

use url::Url;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Query parameters masked when no `redact_query` is configured.
pub const DEFAULT_REDACT_QUERY: [&str; 6] = [
    "token",
    "access_token",
    "key",
    "apikey",
    "password",
    "secret",
];

/// Headers whose values are always masked.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "set-cookie",
];

/// Masks URL passwords, named query parameters and secret header values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redactor {
    query_names: Vec<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new(DEFAULT_REDACT_QUERY.iter().map(|s| s.to_string()))
    }
}

impl Redactor {
    /// A redactor for these query parameter names (matched case-insensitively).
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Redactor {
            query_names: names.into_iter().map(|n| n.to_ascii_lowercase()).collect(),
        }
    }

    /// The query parameter names it masks.
    pub fn names(&self) -> &[String] {
        &self.query_names
    }

    /// Whether a header's value must never be shown.
    pub fn is_secret_header(name: &str) -> bool {
        SECRET_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// The value to show for a header: a secret header's is masked whole; URLs in any other
    /// (a redirect's `Location`) have their secrets masked.
    pub fn header_value<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if Self::is_secret_header(name) {
            Cow::Borrowed(MASK)
        } else if value.contains("://") {
            Cow::Owned(self.text(value))
        } else {
            Cow::Borrowed(value)
        }
    }

    /// The URL with its password and secret query values masked.
    pub fn url(&self, url: &Url) -> String {
        let mut shown = url.clone();
        if shown.password().is_some() {
            // Cannot fail: the URL has a host, since it has a password.
            let _ = shown.set_password(Some(MASK));
        }
        if let Some(query) = url.query() {
            shown.set_query(Some(&self.query(query)));
        }
        shown.to_string()
    }

    /// A raw query string with the values of secret parameters masked, the rest untouched.
    pub fn query(&self, query: &str) -> String {
        query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if self.is_secret_param(name) => format!("{name}={MASK}"),
                _ => pair.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn is_secret_param(&self, raw_name: &str) -> bool {
        let name = url::form_urlencoded::parse(raw_name.as_bytes())
            .next()
            .map(|(k, _)| k.to_ascii_lowercase())
            .unwrap_or_default();
        self.query_names.contains(&name)
    }

    /// Free text (an error message, a URL typed by the user) with any URL in it masked.
    pub fn text(&self, text: &str) -> String {
        text.split(' ')
            .map(|word| {
                if word.contains("://") {
                    let trimmed = word.trim_end_matches([',', ')', '.', ';', '"', '\'']);
                    match Url::parse(trimmed) {
                        Ok(url) => word.replacen(trimmed, &self.url(&url), 1),
                        Err(_) => word.to_string(),
                    }
                } else {
                    word.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_password_and_secret_query_values() {
        let r = Redactor::default();
        let url =
            Url::parse("wss://bob:hunter2@example.com/feed?token=abc&room=7&API_KEY=x&apikey=y")
                .unwrap();
        let shown = r.url(&url);
        assert_eq!(
            shown,
            "wss://bob:***@example.com/feed?token=***&room=7&API_KEY=x&apikey=***"
        );
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn configured_names_replace_the_defaults() {
        let r = Redactor::new(["sig".to_string()]);
        assert_eq!(r.query("sig=1&token=2"), "sig=***&token=2");
    }

    #[test]
    fn masks_urls_inside_free_text() {
        let r = Redactor::default();
        assert_eq!(
            r.text("dialing ws://u:p@h/?token=t, then retry"),
            "dialing ws://u:***@h/?token=***, then retry"
        );
    }

    #[test]
    fn secret_headers_are_masked_case_insensitively() {
        let r = Redactor::default();
        assert_eq!(r.header_value("AUTHORIZATION", "Bearer x"), MASK);
        assert_eq!(r.header_value("cookie", "a=b"), MASK);
        assert_eq!(r.header_value("Proxy-Authorization", "Basic x"), MASK);
        assert_eq!(r.header_value("X-Trace", "1"), "1");
    }
}
