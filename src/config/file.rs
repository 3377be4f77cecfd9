//! The config file: every key optional, unknown keys refused, errors with line numbers.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::values::{DurationValue, SizeValue};

/// Declares a config struct with the connection keys, which both the top level and each
/// `[[endpoint]]` table accept (serde's `flatten` cannot be combined with unknown-key errors).
macro_rules! with_connection_keys {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// The WebSocket URL.
            pub url: Option<Spanned<String>>,
            /// Extra request headers.
            pub headers: Option<Spanned<BTreeMap<String, String>>>,
            /// Subprotocols to offer.
            pub subprotocols: Option<Spanned<Vec<String>>>,
            /// `Origin` header.
            pub origin: Option<Spanned<String>>,
            /// HTTP CONNECT proxy URL, or "none".
            pub proxy: Option<Spanned<String>>,
            /// PEM file of extra trusted CAs.
            pub ca: Option<Spanned<PathBuf>>,
            /// Skip certificate verification.
            pub insecure: Option<Spanned<bool>>,
            /// Bound on one dial.
            pub connect_timeout: Option<Spanned<DurationValue>>,
            /// Shortest reconnect delay.
            pub reconnect_min: Option<Spanned<DurationValue>>,
            /// Longest reconnect delay.
            pub reconnect_max: Option<Spanned<DurationValue>>,
            /// Attempts per outage before giving up (0 = never).
            pub max_attempts: Option<Spanned<u32>>,
            /// Uptime that resets the backoff.
            pub stable_after: Option<Spanned<DurationValue>>,
            /// Heartbeat period (0 = off).
            pub ping_interval: Option<Spanned<DurationValue>>,
            /// Silence after a ping that means the peer is dead.
            pub pong_timeout: Option<Spanned<DurationValue>>,
            /// Messages that may wait while disconnected.
            pub send_queue: Option<Spanned<usize>>,
            /// Largest message.
            pub max_message_size: Option<Spanned<SizeValue>>,
        }
    };
}

with_connection_keys! {
    /// Every key the config file may hold; each one is also a flag.
    #[derive(Clone, Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ConfigFile {
        /// Query parameters whose values are masked.
        pub redact_query: Option<Spanned<Vec<String>>>,
        /// Messages the dashboard's log keeps.
        pub log_capacity: Option<Spanned<usize>>,
        /// Payload bytes the dashboard's log keeps.
        pub log_max_bytes: Option<Spanned<SizeValue>>,
        /// Dashboard frame-rate cap.
        pub fps: Option<Spanned<u32>>,
        /// Recording file.
        pub record: Option<Spanned<PathBuf>>,
        /// Recording rotation size.
        pub record_max_bytes: Option<Spanned<SizeValue>>,
        /// Rotated recording files kept.
        pub record_keep: Option<Spanned<usize>>,
        /// Metrics listen address.
        pub metrics: Option<Spanned<String>>,
        /// Several endpoints, each with its own name, URL and overrides.
        pub endpoint: Option<Vec<Spanned<EndpointFile>>>,
    }
}

with_connection_keys! {
    /// One `[[endpoint]]` table: a name, a URL, and any connection key to override.
    #[derive(Clone, Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct EndpointFile {
        /// How the endpoint is called on screen, in JSON lines and in metrics.
        pub name: Option<Spanned<String>>,
    }
}

impl ConfigFile {
    /// The top-level keys with an endpoint's keys laid over them.
    pub fn with_endpoint(&self, ep: &EndpointFile) -> ConfigFile {
        let mut f = self.clone();
        f.endpoint = None;
        macro_rules! over {
            ($($k:ident),*) => {$(
                if ep.$k.is_some() {
                    f.$k = ep.$k.clone();
                }
            )*};
        }
        over!(
            url,
            headers,
            subprotocols,
            origin,
            proxy,
            ca,
            insecure,
            connect_timeout,
            reconnect_min,
            reconnect_max,
            max_attempts,
            stable_after,
            ping_interval,
            pong_timeout,
            send_queue,
            max_message_size
        );
        f
    }
}

/// The keys, in the order `config.toml` documents them.
pub const KEYS: [&str; 26] = [
    "url",
    "headers",
    "subprotocols",
    "origin",
    "proxy",
    "ca",
    "insecure",
    "connect_timeout",
    "reconnect_min",
    "reconnect_max",
    "max_attempts",
    "stable_after",
    "ping_interval",
    "pong_timeout",
    "send_queue",
    "max_message_size",
    "redact_query",
    "log_capacity",
    "log_max_bytes",
    "fps",
    "record",
    "record_max_bytes",
    "record_keep",
    "metrics",
    "endpoint",
    "name",
];

/// A parsed file with its text, for turning spans into line numbers.
#[derive(Debug)]
pub struct LoadedFile {
    /// Where it came from.
    pub path: PathBuf,
    text: String,
    /// Its keys.
    pub file: ConfigFile,
}

impl LoadedFile {
    /// The same file with `file` in place of what was parsed (an endpoint's overlay).
    pub fn with_file(&self, file: ConfigFile) -> LoadedFile {
        LoadedFile {
            path: self.path.clone(),
            text: self.text.clone(),
            file,
        }
    }

    /// The 1-based line of a byte offset.
    pub fn line_of(&self, span: &Range<usize>) -> usize {
        line_of(&self.text, span.start)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads and parses a config file.
pub fn load(path: &Path) -> Result<LoadedFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
            _ => e.to_string(),
        },
    })?;
    parse(path, text)
}

/// Parses config text that came from `path`.
pub fn parse(path: &Path, text: String) -> Result<LoadedFile, ConfigError> {
    match toml::from_str::<ConfigFile>(&text) {
        Ok(file) => Ok(LoadedFile {
            path: path.to_path_buf(),
            text,
            file,
        }),
        Err(e) => {
            let line = e.span().map(|s| line_of(&text, s.start)).unwrap_or(1);
            let key = e
                .span()
                .and_then(|s| key_on_line(&text, s.start))
                .filter(|k| KEYS.contains(&k.as_str()));
            Err(ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                message: explain(e.message(), key.as_deref()),
            })
        }
    }
}

/// The key assigned on the line holding `offset`, if the line is `key = ...`.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    Some(key.trim().trim_matches('"').to_string())
}

/// Turns serde/toml wording into a message that names the key and what is allowed.
fn explain(message: &str, key: Option<&str>) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let unknown = rest.split('`').next().unwrap_or("");
        let hint = match nearest_key(unknown) {
            Some(k) => format!(" (did you mean `{k}`?)"),
            None => String::new(),
        };
        return format!(
            "unknown key `{unknown}`{hint}; config.toml in the wsmon repository lists every key"
        );
    }
    let friendlier = message
        .replace("expected u32", "expected a whole number")
        .replace("expected usize", "expected a whole number")
        .replace("expected a boolean", "expected true or false")
        .replace("expected a sequence", "expected a list like [\"a\", \"b\"]")
        .replace(
            "expected a map",
            "expected a table like { Name = \"value\" }",
        );
    match key {
        Some(k) => format!("`{k}`: {friendlier}"),
        None => friendlier,
    }
}

/// The known key closest to a misspelt one, if it is close.
fn nearest_key(word: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("/etc/w.toml"), text.to_string())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_key_names_the_line_and_the_nearest_key() {
        let e = err("url = \"ws://h\"\npong_timout = \"5s\"\n");
        assert_eq!(
            e,
            "config file `/etc/w.toml` line 2: unknown key `pong_timout` (did you mean `pong_timeout`?); \
             config.toml in the wsmon repository lists every key"
        );
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = err("\n\nmax_attempts = \"ten\"\n");
        assert!(
            e.contains("line 3") && e.contains("`max_attempts`") && e.contains("whole number"),
            "{e}"
        );
        let e = err("insecure = \"yes\"\n");
        assert!(
            e.contains("`insecure`") && e.contains("true or false"),
            "{e}"
        );
    }

    #[test]
    fn bad_duration_names_the_key_and_the_form() {
        let e = err("ping_interval = \"15 parsecs\"\n");
        assert!(
            e.contains("line 1") && e.contains("`ping_interval`") && e.contains("15s"),
            "{e}"
        );
        let e = err("pong_timeout = 10\n");
        assert!(e.contains("needs a unit") && e.contains("\"10s\""), "{e}");
    }

    #[test]
    fn toml_syntax_errors_keep_their_line() {
        let e = err("url = \"ws://h\"\nfps = = 3\n");
        assert!(e.starts_with("config file `/etc/w.toml` line 2:"), "{e}");
    }

    #[test]
    fn zero_duration_is_allowed_as_integer() {
        let f = parse(Path::new("x"), "ping_interval = 0\n".into()).unwrap();
        assert_eq!(
            f.file.ping_interval.unwrap().into_inner().0,
            std::time::Duration::ZERO
        );
    }
}
