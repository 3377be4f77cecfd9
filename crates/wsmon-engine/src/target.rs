//! The WebSocket URL to dial: parsed, checked, and shown without secrets.

use base64::Engine as _;
use thiserror::Error;
use url::{Host, Url};

use super::redact::Redactor;

/// Port used when a bare host is given without one; `wsmon serve` listens there.
pub const DEFAULT_PORT: u16 = 40100;

/// A URL that cannot be dialled, with what to write instead.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TargetError {
    /// Nothing was given.
    #[error("the URL is empty: give one like ws://host:40100/path or wss://host/path")]
    Empty,
    /// The text is not a URL.
    #[error("`{input}` is not a valid URL ({reason}): write it like ws://host:40100/path")]
    Invalid {
        /// What was given.
        input: String,
        /// What the parser said.
        reason: String,
    },
    /// A scheme other than ws/wss.
    #[error("unsupported scheme `{scheme}` in `{input}`: use ws:// or wss://{hint}")]
    Scheme {
        /// What was given.
        input: String,
        /// The scheme found.
        scheme: String,
        /// A suggestion for http/https.
        hint: String,
    },
    /// A fragment, which WebSocket URLs must not have.
    #[error("`{input}` has a #fragment, which a WebSocket URL cannot carry: remove it")]
    Fragment {
        /// What was given.
        input: String,
    },
}

/// A validated `ws://` or `wss://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    url: Url,
    host: String,
    port: u16,
}

impl Target {
    /// Parses a URL; a bare `host[:port]` means `ws://host:port` (port 40100 when omitted).
    pub fn parse(input: &str) -> Result<Target, TargetError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(TargetError::Empty);
        }
        let bare = !input.contains("://");
        let text = if bare {
            format!("ws://{input}")
        } else {
            input.to_string()
        };
        let mut url = Url::parse(&text).map_err(|e| TargetError::Invalid {
            input: input.to_string(),
            reason: e.to_string(),
        })?;
        match url.scheme() {
            "ws" | "wss" => {}
            other => {
                let hint = match other {
                    "http" => " (ws:// is the WebSocket form of http://)",
                    "https" => " (wss:// is the WebSocket form of https://)",
                    _ => "",
                };
                return Err(TargetError::Scheme {
                    input: input.to_string(),
                    scheme: other.to_string(),
                    hint: hint.to_string(),
                });
            }
        }
        if url.fragment().is_some() {
            return Err(TargetError::Fragment {
                input: input.to_string(),
            });
        }
        let host = match url.host() {
            Some(Host::Domain(d)) => d.to_string(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => {
                return Err(TargetError::Invalid {
                    input: input.to_string(),
                    reason: "no host".into(),
                });
            }
        };
        if bare && url.port().is_none() {
            // Cannot fail: ws URLs with a host accept a port.
            let _ = url.set_port(Some(DEFAULT_PORT));
        }
        let port = url.port_or_known_default().unwrap_or(DEFAULT_PORT);
        Ok(Target { url, host, port })
    }

    /// True for `wss://`.
    pub fn is_secure(&self) -> bool {
        self.url.scheme() == "wss"
    }

    /// The host name or IP (without IPv6 brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the host is an IP literal (no DNS needed).
    pub fn host_is_ip(&self) -> bool {
        !matches!(self.url.host(), Some(Host::Domain(_)))
    }

    /// The request target: path and query.
    pub fn request_path(&self) -> String {
        match self.url.query() {
            Some(q) => format!("{}?{}", self.url.path(), q),
            None => self.url.path().to_string(),
        }
    }

    /// The same URL with `path` (and `query`) when it has no path or query of its own: a
    /// preset's well-known endpoint.
    pub fn with_default_path(&self, path: &str, query: &str) -> Option<Target> {
        if self.url.path() != "/" || self.url.query().is_some() {
            return None;
        }
        let mut url = self.url.clone();
        url.set_path(path);
        url.set_query(Some(query));
        Some(Target {
            url,
            host: self.host.clone(),
            port: self.port,
        })
    }

    /// The `Host` header value: host, plus the port when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = self.url.host_str().unwrap_or(&self.host);
        match self.url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        }
    }

    /// `host:port` for a proxy CONNECT line.
    pub fn authority(&self) -> String {
        let host = self.url.host_str().unwrap_or(&self.host);
        format!("{host}:{}", self.port)
    }

    /// The `Authorization: Basic` value for credentials in the URL, if any.
    pub fn basic_auth(&self) -> Option<String> {
        if self.url.username().is_empty() && self.url.password().is_none() {
            return None;
        }
        let user = percent_decode(self.url.username());
        let pass = percent_decode(self.url.password().unwrap_or(""));
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        Some(format!("Basic {token}"))
    }

    /// The user name and password in the URL, percent-decoded (an MQTT or STOMP login).
    pub fn credentials(&self) -> Option<(String, String)> {
        if self.url.username().is_empty() && self.url.password().is_none() {
            return None;
        }
        Some((
            percent_decode(self.url.username()),
            percent_decode(self.url.password().unwrap_or("")),
        ))
    }

    /// The URL with secrets masked.
    pub fn redacted(&self, r: &Redactor) -> String {
        r.url(&self.url)
    }

    /// A readable name: host, port when not the default, and path, secrets left out.
    pub fn short_name(&self) -> String {
        let shown = self.redacted(&Redactor::new(Vec::new()));
        let after_scheme = shown.split_once("://").map_or(shown.as_str(), |(_, r)| r);
        let without_query = after_scheme.split('?').next().unwrap_or(after_scheme);
        let without_user = without_query
            .rsplit_once('@')
            .map_or(without_query, |(_, r)| r);
        without_user.trim_end_matches('/').to_string()
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_port_means_ws() {
        let t = Target::parse("localhost:9000").unwrap();
        assert!(!t.is_secure());
        assert_eq!((t.host(), t.port()), ("localhost", 9000));
        assert_eq!(t.request_path(), "/");
    }

    #[test]
    fn bare_host_defaults_to_40100() {
        let t = Target::parse("10.0.0.5").unwrap();
        assert_eq!(t.port(), 40100);
        assert!(t.host_is_ip());
        assert_eq!(t.host_header(), "10.0.0.5:40100");
    }

    #[test]
    fn scheme_default_ports() {
        assert_eq!(Target::parse("ws://h/x").unwrap().port(), 80);
        let t = Target::parse("wss://h/x?y=1").unwrap();
        assert_eq!(t.port(), 443);
        assert_eq!(t.host_header(), "h");
        assert_eq!(t.request_path(), "/x?y=1");
    }

    #[test]
    fn ipv6_literal() {
        let t = Target::parse("ws://[::1]:8080/").unwrap();
        assert_eq!(t.host(), "::1");
        assert_eq!(t.host_header(), "[::1]:8080");
        assert_eq!(t.authority(), "[::1]:8080");
    }

    #[test]
    fn rejects_other_schemes_with_a_hint() {
        let e = Target::parse("https://example.com").unwrap_err();
        assert!(
            e.to_string()
                .contains("wss:// is the WebSocket form of https://"),
            "{e}"
        );
        assert!(matches!(
            Target::parse("ftp://x"),
            Err(TargetError::Scheme { .. })
        ));
        assert_eq!(Target::parse("  "), Err(TargetError::Empty));
        assert!(matches!(
            Target::parse("ws://h/#x"),
            Err(TargetError::Fragment { .. })
        ));
        assert!(matches!(
            Target::parse("ws://"),
            Err(TargetError::Invalid { .. })
        ));
    }

    #[test]
    fn credentials_become_basic_auth_and_are_masked() {
        let t = Target::parse("ws://al%40ice:s3cret@h:1/").unwrap();
        assert_eq!(t.basic_auth().unwrap(), "Basic YWxAaWNlOnMzY3JldA==");
        assert_eq!(t.redacted(&Redactor::default()), "ws://al%40ice:***@h:1/");
    }
}
