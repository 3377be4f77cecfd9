//! Masking of secrets in URLs and headers, so that no output carries them.

use std::borrow::Cow;

use url::Url;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Query parameters masked when no `redact_query` is configured.
pub const DEFAULT_REDACT_QUERY: [&str; 13] = [
    "token",
    "access_token",
    "key",
    "apikey",
    "api_key",
    "password",
    "secret",
    "sig",
    "signature",
    "code",
    "auth",
    "jwt",
    "session",
];

/// Headers whose values are always masked; besides them, any name ending in `-token`,
/// `-secret` or `-key` (`X-Api-Key`, `X-Auth-Token`), and those of `redact_header`.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "set-cookie",
];

/// Name endings that make a header a secret.
const SECRET_SUFFIXES: [&str; 3] = ["-token", "-secret", "-key"];

/// Masks URL passwords, named query parameters and secret header values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redactor {
    query_names: Vec<String>,
    header_names: Vec<String>,
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
            header_names: Vec::new(),
        }
    }

    /// The query parameter names it masks.
    pub fn names(&self) -> &[String] {
        &self.query_names
    }

    /// Masks these query parameter names instead.
    pub fn set_names(&mut self, names: Vec<String>) {
        self.query_names = names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
    }

    /// The header names masked besides the built-in ones (`redact_header`).
    pub fn header_names(&self) -> &[String] {
        &self.header_names
    }

    /// Masks these header names too; `*` at the start or end matches any prefix or suffix
    /// (`*-Signature`, `X-Internal-*`).
    pub fn set_header_names(&mut self, names: Vec<String>) {
        self.header_names = names;
    }

    /// Whether a header's value must never be shown.
    pub fn is_secret_header(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        SECRET_HEADERS.contains(&lower.as_str())
            || SECRET_SUFFIXES.iter().any(|s| lower.ends_with(s))
            || self.header_names.iter().any(|p| glob(p, &lower))
    }

    /// The value to show for a header: a secret header's is masked whole; a subprotocol
    /// list has its values that look like tokens masked (credentials are sent that way);
    /// URLs in any other (a redirect's `Location`, also a relative one) have their secrets
    /// masked.
    pub fn header_value<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.is_secret_header(name) {
            return Cow::Borrowed(MASK);
        }
        if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            return Cow::Owned(self.subprotocols(value));
        }
        if value.contains("://") {
            return Cow::Owned(self.text(value));
        }
        if name.eq_ignore_ascii_case("location") || name.eq_ignore_ascii_case("content-location") {
            return Cow::Owned(self.relative(value));
        }
        Cow::Borrowed(value)
    }

    /// A comma-separated subprotocol list with the values that look like tokens masked.
    pub fn subprotocols(&self, list: &str) -> String {
        list.split(',')
            .map(|p| self.subprotocol(p.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One subprotocol, masked when it looks like a token (a JWT, a long key): those are
    /// credentials put where a browser lets a page put them.
    pub fn subprotocol(&self, p: &str) -> String {
        if looks_like_token(p) {
            MASK.to_string()
        } else {
            p.to_string()
        }
    }

    /// A relative URL (`/login?token=x`) with its secret query values masked.
    pub fn relative(&self, target: &str) -> String {
        match target.split_once('?') {
            Some((path, rest)) => {
                let (query, fragment) = match rest.split_once('#') {
                    Some((q, f)) => (q, Some(f)),
                    None => (rest, None),
                };
                let mut out = format!("{path}?{}", self.query(query));
                if let Some(f) = fragment {
                    out.push('#');
                    out.push_str(f);
                }
                out
            }
            None => target.to_string(),
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

/// `pattern` (lower-cased here; `*` at either end matches anything there) against a
/// lower-case header name.
fn glob(pattern: &str, name: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    match (p.strip_prefix('*'), p.strip_suffix('*')) {
        (Some(rest), _) if rest.ends_with('*') => name.contains(&rest[..rest.len() - 1]),
        (Some(suffix), _) => name.ends_with(suffix),
        (None, Some(prefix)) => name.starts_with(prefix),
        (None, None) => name == p,
    }
}

/// Whether a value looks like a credential: long, of token characters only, with letters
/// and digits mixed (a JWT, an API key), not a word like `graphql-transport-ws`.
pub fn looks_like_token(v: &str) -> bool {
    v.len() >= 20
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=".contains(&b))
        && v.bytes().any(|b| b.is_ascii_digit())
        && v.bytes().any(|b| b.is_ascii_alphabetic())
        && v.bytes().filter(|b| b.is_ascii_digit()).count() * 10 >= v.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_password_and_secret_query_values() {
        let r = Redactor::default();
        let url = Url::parse(
            "wss://bob:hunter2@example.com/feed?token=abc&room=7&API_KEY=x&apikey=y&sig=s&code=c&jwt=j",
        )
        .unwrap();
        let shown = r.url(&url);
        assert_eq!(
            shown,
            "wss://bob:***@example.com/feed?token=***&room=7&API_KEY=***&apikey=***&sig=***&code=***&jwt=***"
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
        let mut r = Redactor::default();
        assert_eq!(r.header_value("AUTHORIZATION", "Bearer x"), MASK);
        assert_eq!(r.header_value("cookie", "a=b"), MASK);
        assert_eq!(r.header_value("Proxy-Authorization", "Basic x"), MASK);
        assert_eq!(r.header_value("X-Api-Key", "k"), MASK);
        assert_eq!(r.header_value("X-Auth-Token", "t"), MASK);
        assert_eq!(r.header_value("Client-Secret", "s"), MASK);
        assert_eq!(r.header_value("X-Trace", "1"), "1");
        assert_eq!(r.header_value("X-Tenant-Sig", "s"), "s");
        r.set_header_names(vec![
            "*-sig".into(),
            "X-Internal-*".into(),
            "Partner".into(),
        ]);
        assert_eq!(r.header_value("X-Tenant-Sig", "s"), MASK);
        assert_eq!(r.header_value("x-internal-user", "u"), MASK);
        assert_eq!(r.header_value("partner", "p"), MASK);
    }

    #[test]
    fn relative_redirects_and_token_subprotocols_are_masked_too() {
        let r = Redactor::default();
        assert_eq!(
            r.header_value("Location", "/login?token=abc&next=/feed#top"),
            "/login?token=***&next=/feed#top"
        );
        assert_eq!(
            r.header_value(
                "Sec-WebSocket-Protocol",
                "graphql-transport-ws, eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl1"
            ),
            "graphql-transport-ws, ***"
        );
        assert!(!looks_like_token("v12.stomp"));
        assert!(!looks_like_token("graphql-transport-ws"));
        assert!(looks_like_token("sk_live_51H8kXJ2eZvKYlo2C0a1b2c3"));
    }
}
