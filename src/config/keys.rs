//! The one table of settings. Each key's entry says its name, its flag, the kind of value it
//! takes with its allowed range, what it is for, whether an `[[endpoint]]` may override it,
//! and which field of the engine's `ConnSettings` (or the session's `SessionOptions`) it sets.
//! The config file's schema, the endpoint overlay, the flags and their `--help`, the range
//! checks and `--print-config` are all driven from it; the defaults come from those structs'
//! `Default`. Adding a key: a field with its default, and one entry here (plus its docs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use crate::engine::protocol::VersionChoice;
use crate::engine::settings::Secret;
use crate::engine::target::Target;
use crate::engine::{AutoReply, ConnSettings, Preset, Proxy, StaleAction};
use crate::session::SessionOptions;

/// A value of a key, in the shape its kind takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A switch.
    Bool(bool),
    /// A count or a size in bytes.
    Num(u64),
    /// A duration; zero may mean off.
    Duration(Duration),
    /// One line of text, or nothing.
    Text(Option<String>),
    /// A file, or none.
    Path(Option<PathBuf>),
    /// A list of words.
    List(Vec<String>),
    /// Name/value pairs (headers; auto-reply rules).
    Pairs(Vec<(String, String)>),
    /// A WebSocket URL, or none.
    Url(Option<Target>),
    /// A proxy, or none.
    Proxy(Option<Proxy>),
    /// An address to listen on, or none.
    Addr(Option<SocketAddr>),
}

/// What kind of value a key takes, with its allowed range: this decides how it is parsed
/// from a flag or the file, checked, and shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueKind {
    /// `500ms`, `15s`, `2m`; with `off`, 0 is allowed and means that word.
    Duration {
        /// Smallest allowed.
        min: Duration,
        /// Largest allowed.
        max: Duration,
        /// What 0 means, when it is allowed.
        off: Option<&'static str>,
    },
    /// `64MiB` or a number of bytes; with `off`, 0 is allowed and means that word.
    Size {
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
        /// What 0 means, when it is allowed.
        off: Option<&'static str>,
    },
    /// A whole number.
    Count {
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// `true` or `false`; as a flag, present means true.
    Bool,
    /// One line of text.
    Text,
    /// A file.
    Path,
    /// A PEM file of CA certificates.
    CaFile,
    /// A list of HTTP tokens (subprotocol names); as a flag, repeatable.
    Tokens,
    /// A list of texts; as a flag, repeatable.
    List,
    /// A regular expression.
    Regex,
    /// Rules "when a text matches REGEX, send TEXT": in the file a list of
    /// `{ when = "REGEX", send = "TEXT" }`, as a flag (repeatable) `'REGEX => TEXT'`.
    Rules,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A JSON value.
    Json,
    /// One line of text never shown (a password).
    Secret,
    /// Header names and values; as a flag, repeatable `'Name: value'`.
    Headers,
    /// A ws:// or wss:// URL.
    Url,
    /// An http:// proxy URL, or `none`.
    Proxy,
    /// An `ip:port` to listen on.
    Addr,
    /// `I/N`: shard I of N (`--shard`).
    Shard,
}

/// Where a key may be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// A connection setting: top level, and overridable in each `[[endpoint]]`.
    Endpoint,
    /// A setting of the whole run: top level only.
    Session,
}

/// Which field a key sets, read and written as a `Value`.
#[derive(Clone, Copy)]
pub enum Slot {
    /// A field of the engine's `ConnSettings`.
    Conn {
        /// Reads it.
        get: fn(&ConnSettings) -> Value,
        /// Writes it (the value was checked against the key's kind).
        set: fn(&mut ConnSettings, Value),
    },
    /// A field of the session's `SessionOptions`.
    Session {
        /// Reads it.
        get: fn(&SessionOptions) -> Value,
        /// Writes it.
        set: fn(&mut SessionOptions, Value),
    },
}

/// One setting: a config key, usually also a flag.
#[derive(Clone, Copy)]
pub struct Key {
    /// The config key.
    pub name: &'static str,
    /// The long flag without `--`; `""` when there is none (the URL is an argument).
    pub flag: &'static str,
    /// A short flag.
    pub short: Option<char>,
    /// The flag's value placeholder in `--help`.
    pub value_name: &'static str,
    /// The kind of value, with its range.
    pub kind: ValueKind,
    /// Where it may be set.
    pub scope: Scope,
    /// What it is for, one line (the flag's help).
    pub doc: &'static str,
    /// The field it sets.
    pub slot: Slot,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.name)
    }
}

impl Key {
    /// How the flag is named in messages: `--pong-timeout`, `-H/--header`; the URL, which
    /// is an argument, is `URL`.
    pub(crate) fn flag_display(&self) -> String {
        match (self.flag, self.short) {
            ("", _) if self.name == "url" => "URL".to_string(),
            // A key of the config file alone.
            ("", _) => format!("`{}` in the config file", self.name),
            (long, Some(c)) => format!("-{c}/--{long}"),
            (long, None) => format!("--{long}"),
        }
    }

    /// The value this key has by default.
    pub(crate) fn default_value(&self) -> Value {
        match self.slot {
            Slot::Conn { get, .. } => get(&ConnSettings::default()),
            Slot::Session { get, .. } => get(&SessionOptions::default()),
        }
    }
}

/// A field's type as a `Value`.
pub(crate) trait Setting: Sized {
    /// The field as a value.
    fn to_value(&self) -> Value;
    /// The field from a value of its key's kind.
    fn from_value(v: Value) -> Self;
}

macro_rules! setting {
    ($ty:ty, $variant:ident, |$v:ident| $to:expr, |$w:ident| $from:expr) => {
        impl Setting for $ty {
            fn to_value(&self) -> Value {
                let $v = self;
                Value::$variant($to)
            }
            fn from_value(v: Value) -> Self {
                match v {
                    Value::$variant($w) => $from,
                    other => {
                        unreachable!(concat!("a ", stringify!($ty), " key was given {:?}"), other)
                    }
                }
            }
        }
    };
}

setting!(bool, Bool, |v| *v, |b| b);
setting!(u32, Num, |v| u64::from(*v), |n| n
    .try_into()
    .unwrap_or(u32::MAX));
setting!(u64, Num, |v| *v, |n| n);
setting!(usize, Num, |v| *v as u64, |n| n
    .try_into()
    .unwrap_or(usize::MAX));
setting!(Duration, Duration, |v| *v, |d| d);
setting!(Option<Duration>, Duration, |v| v.unwrap_or_default(), |d| {
    (!d.is_zero()).then_some(d)
});
setting!(Option<String>, Text, |v| v.clone(), |t| t);
setting!(Option<PathBuf>, Path, |v| v.clone(), |p| p);
setting!(Vec<String>, List, |v| v.clone(), |l| l);
setting!(Vec<(String, String)>, Pairs, |v| v.clone(), |p| p);
setting!(Target, Url, |v| Some(v.clone()), |t| {
    t.expect("a URL is set only when there is one")
});
setting!(Option<Proxy>, Proxy, |v| v.clone(), |p| p);
setting!(Option<SocketAddr>, Addr, |v| *v, |a| a);
setting!(
    Option<crate::targets::Shard>,
    Text,
    |v| v.map(|s| s.to_string()),
    |t| t.and_then(|t| crate::targets::Shard::parse(&t).ok())
);
setting!(String, Text, |v| Some(v.clone()), |t| t.unwrap_or_default());
setting!(
    Option<Regex>,
    Text,
    |v| v.as_ref().map(|r| r.as_str().to_string()),
    |t| t.and_then(|p| Regex::new(&p).ok())
);
setting!(
    Vec<AutoReply>,
    Pairs,
    |v| v
        .iter()
        .map(|r| (r.when.as_str().to_string(), r.send.clone()))
        .collect(),
    |rules| rules
        .into_iter()
        .filter_map(|(when, send)| Some(AutoReply {
            when: Regex::new(&when).ok()?,
            send
        }))
        .collect()
);
setting!(StaleAction, Text, |v| Some(v.name().to_string()), |t| {
    StaleAction::NAMES
        .iter()
        .find(|(n, _)| Some(*n) == t.as_deref())
        .map_or(StaleAction::Report, |(_, a)| *a)
});
setting!(
    Option<Secret>,
    Text,
    |v| v.as_ref().map(|s| s.0.clone()),
    |t| t.map(Secret)
);
setting!(VersionChoice, Text, |v| Some(v.name().to_string()), |t| {
    VersionChoice::NAMES
        .iter()
        .find(|(n, _)| Some(*n) == t.as_deref())
        .map_or(VersionChoice::Auto, |(_, c)| *c)
});

/// The slot of a `ConnSettings` field.
macro_rules! conn {
    ($field:ident) => {
        Slot::Conn {
            get: |s| Setting::to_value(&s.$field),
            set: |s, v| s.$field = Setting::from_value(v),
        }
    };
}

/// The slot of a `SessionOptions` field.
macro_rules! session {
    ($field:ident) => {
        Slot::Session {
            get: |s| Setting::to_value(&s.$field),
            set: |s, v| s.$field = Setting::from_value(v),
        }
    };
}

const MS: Duration = Duration::from_millis(1);
const S: Duration = Duration::from_secs(1);
const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// A key of kind `kind` that sets `slot`, with a flag named like the key.
const fn key(
    name: &'static str,
    flag: &'static str,
    value_name: &'static str,
    kind: ValueKind,
    scope: Scope,
    doc: &'static str,
    slot: Slot,
) -> Key {
    Key {
        name,
        flag,
        short: None,
        value_name,
        kind,
        scope,
        doc,
        slot,
    }
}

use Scope::{Endpoint as E, Session as SS};

mod table;

pub use table::KEYS;

/// Keys of the file that are not settings: the fleet's tables and their names.
pub(crate) const STRUCTURE: [&str; 2] = ["endpoint", "name"];

/// The key called `name`.
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// Every name the config file knows, settings first, in `config.toml` order.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.name).chain(STRUCTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for k in KEYS.iter().filter(|k| !k.flag.is_empty()) {
            assert!(seen.insert(k.flag), "two keys use --{}", k.flag);
        }
        assert_eq!(find("headers").unwrap().flag_display(), "-H/--header");
        assert_eq!(find("url").unwrap().flag_display(), "URL");
    }

    #[test]
    fn every_default_fits_its_range() {
        for k in KEYS {
            let ok = match (k.kind, k.default_value()) {
                (ValueKind::Duration { min, max, off }, Value::Duration(d)) => {
                    (off.is_some() && d.is_zero()) || (min..=max).contains(&d)
                }
                (ValueKind::Size { min, max, off }, Value::Num(n)) => {
                    (off.is_some() && n == 0) || (min..=max).contains(&n)
                }
                (ValueKind::Count { min, max }, Value::Num(n)) => (min..=max).contains(&n),
                _ => true,
            };
            assert!(ok, "the default of `{}` is out of its range", k.name);
        }
    }
}
