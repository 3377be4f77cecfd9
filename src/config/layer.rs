//! Layering: for each key, the flag over the endpoint's table over the top of the file over
//! the default (`cfg_layer`), checked against the key's kind, written into the engine's or the
//! session's settings, and remembered with where it came from.

use std::time::Duration;

use super::file::{LoadedFile, Table};
use super::keys::{KEYS, Key, Scope, Slot, Value, ValueKind};
use super::values::no_proxy_matches;
use super::{ConfigError, Provenance, Source, at};
use crate::config::ConnArgs;
use crate::engine::ConnSettings;
use crate::session::SessionOptions;
use crate::text;

/// A value some layer gives a key, and where it came from.
#[derive(Clone, Debug)]
pub struct Given {
    /// The key.
    pub key: &'static Key,
    /// The value, shaped but not yet checked.
    pub value: Value,
    /// Where it came from.
    pub source: Source,
}

/// The values of one layer.
pub(crate) type Layer = Vec<Given>;

/// The flags' layer.
pub(crate) fn from_cli(cli: &ConnArgs) -> Result<Layer, ConfigError> {
    cli.given()
        .map(|(key, value)| {
            let source = Source::Cli(key.name);
            let value = match (key.kind, value) {
                // Flags give `Name: value` lines; the file gives a table.
                // `-H @FILE` reads `Name: value` lines from a file, so a credential need not
                // be on the command line (where `ps` shows it).
                (ValueKind::Headers, Value::List(lines)) => {
                    let mut pairs = Vec::new();
                    for l in lines {
                        match l.strip_prefix('@') {
                            Some(path) => pairs.extend(
                                header_file(std::path::Path::new(path))
                                    .map_err(|m| invalid(key, &source, m))?,
                            ),
                            None => pairs.push(
                                super::values::parse_header_arg(l)
                                    .map_err(|m| invalid(key, &source, m))?,
                            ),
                        }
                    }
                    Value::Pairs(pairs)
                }
                (ValueKind::Rules, Value::List(lines)) => Value::Pairs(
                    lines
                        .iter()
                        .map(|l| super::values::parse_rule_arg(l))
                        .collect::<Result<_, _>>()
                        .map_err(|m| invalid(key, &source, m))?,
                ),
                (_, v) => v.clone(),
            };
            Ok(Given { key, value, source })
        })
        .collect()
}

/// A table of the file as a layer.
pub(crate) fn from_table(file: &LoadedFile, table: &Table) -> Layer {
    table
        .entries
        .iter()
        .map(|e| Given {
            key: e.key,
            value: e.value.clone(),
            source: Source::File {
                path: file.path.clone(),
                line: e.line,
            },
        })
        .collect()
}

/// What the layers give `key`: the first layer that has it, or its default. Headers are
/// merged instead: a flag replaces a file header of the same name and adds the others.
fn pick(layers: &[&Layer], key: &'static Key) -> (Value, Source) {
    let mut found = layers
        .iter()
        .filter_map(|l| l.iter().find(|g| std::ptr::eq(g.key, key)));
    if key.kind != ValueKind::Headers {
        return match found.next() {
            Some(g) => (g.value.clone(), g.source.clone()),
            None => (key.default_value(), Source::Default),
        };
    }
    // The most important layer first: fold from the least important up.
    let mut merged: Vec<(String, String)> = Vec::new();
    let mut source = Source::Default;
    let found: Vec<&Given> = found.collect();
    for g in found.iter().rev() {
        if let Value::Pairs(pairs) = &g.value {
            if !matches!(g.source, Source::Cli(_)) {
                // A file table's headers replace those of a less specific table.
                merged.clear();
            }
            for (name, value) in pairs {
                merged.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                merged.push((name.clone(), value.clone()));
            }
            source = g.source.clone();
        }
    }
    (Value::Pairs(merged), source)
}

/// The largest header file read.
const HEADER_FILE_MAX: u64 = 1 << 20;

/// The headers of a file of `Name: value` lines (blank lines and `#` comments skipped).
pub(crate) fn header_file(path: &std::path::Path) -> Result<Vec<(String, String)>, String> {
    let text = crate::bounded::read_file(path, HEADER_FILE_MAX)
        .map_err(|e| format!("cannot read header file `{}`: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            super::values::parse_header_arg(l.trim_end_matches('\r'))
                .map_err(|m| format!("header file `{}` line {}: {m}", path.display(), i + 1))
        })
        .collect()
}

/// Headers from `WSMON_HEADER_<NAME>` variables: `WSMON_HEADER_X_API_KEY` is `X-Api-Key`.
fn env_headers(
    vars: impl Iterator<Item = (String, String)>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (var, value) in vars {
        let Some(name) = var.strip_prefix("WSMON_HEADER_") else {
            continue;
        };
        let name = name
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => {
                        f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()
                    }
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-");
        out.push(
            super::values::parse_header_arg(&format!("{name}: {value}"))
                .map_err(|m| format!("environment variable {var}: {m}"))?,
        );
    }
    Ok(out)
}

/// Adds `more` headers to `settings`, except those already given by name.
fn add_headers(settings: &mut ConnSettings, more: Vec<(String, String)>) {
    for (name, value) in more {
        if !settings
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            settings.headers.push((name, value));
        }
    }
}

fn invalid(key: &Key, source: &Source, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        at: at(key.name, source),
        message: message.into(),
    }
}

/// The keys of `scope`, resolved from `layers`: checked values and where they came from.
fn resolve_scope(
    layers: &[&Layer],
    scope: Scope,
) -> Result<Vec<(&'static Key, Value, Source)>, ConfigError> {
    KEYS.iter()
        .filter(|k| k.scope == scope)
        .map(|key| {
            let (value, source) = pick(layers, key);
            let value = match (&source, key.kind) {
                // The URL is checked only when one was given.
                (Source::Default, ValueKind::Url) => Value::Url(None),
                _ => key
                    .kind
                    .check(value)
                    .map_err(|m| invalid(key, &source, m))?,
            };
            Ok((key, value, source))
        })
        .collect()
}

/// One endpoint's connection settings.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The settings; the target is the default one when no URL was given.
    pub settings: ConnSettings,
    /// Whether a URL was given.
    pub has_url: bool,
    /// Each connection key's value and where it came from, in `config.toml` order.
    pub provenance: Vec<Provenance>,
}

impl Resolved {
    #[cfg(test)]
    /// Where a key's value came from.
    pub(crate) fn source_of(&self, key: &str) -> Option<&Source> {
        self.provenance
            .iter()
            .find(|p| p.key == key)
            .map(|p| &p.source)
    }
}

/// Resolves the connection keys from `layers` (under them, the file's `[preset.NAME]` when
/// they choose one), then the proxy from the environment (through `env`) when no layer names
/// one.
pub fn connection(
    layers: &[&Layer],
    file: Option<&LoadedFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ConfigError> {
    let preset_key = super::keys::find("preset").expect("the preset key");
    let (preset, preset_source) = pick(layers, preset_key);
    let custom = super::presets::custom_layer((&preset, &preset_source), file)?;
    let mut layers = layers.to_vec();
    if let Some((layer, _)) = &custom {
        layers.push(layer);
    }
    let resolved = resolve_scope(&layers, Scope::Endpoint)?;
    let mut settings = ConnSettings::default();
    let mut has_url = false;
    for (key, value, _) in &resolved {
        if let Value::Url(None) = value {
            continue;
        }
        has_url |= key.kind == ValueKind::Url;
        if let Slot::Conn { set, .. } = key.slot {
            set(&mut settings, value.clone());
        }
    }
    check_reconnect_range(&resolved)?;
    settings.subscribe_template = custom.as_ref().and_then(|(_, t)| t.clone());
    if settings.password.is_none()
        && let Some(p) = env("WSMON_PASSWORD").filter(|p| !p.is_empty())
    {
        settings.password = Some(crate::engine::settings::Secret(p));
    }
    // Headers that keep credentials off the command line: the environment's, then a header
    // file's, each where no flag or table named that header.
    let env_vars = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    add_headers(
        &mut settings,
        env_headers(env_vars).map_err(|m| ConfigError::Invalid {
            at: "headers".into(),
            message: m,
        })?,
    );
    if let Some(path) = settings.header_file.clone() {
        let key = super::keys::find("header_file").expect("a key");
        let source = resolved
            .iter()
            .find(|(k, _, _)| std::ptr::eq(*k, key))
            .map(|(_, _, s)| s.clone())
            .unwrap_or(Source::Default);
        add_headers(
            &mut settings,
            header_file(&path).map_err(|m| invalid(key, &source, m))?,
        );
    }
    let r = settings.redactor.clone();
    let mut provenance: Vec<Provenance> = resolved
        .iter()
        .map(|(key, value, source)| Provenance {
            key: key.name,
            value: key.kind.show(value, &r),
            source: source.clone(),
        })
        .collect();
    proxy_from_env(&mut settings, &mut provenance, has_url, env)?;
    if let Some(proxy) = settings.proxy.as_mut()
        && let Some(p) = provenance.iter().find(|p| p.key == "proxy")
    {
        proxy.source = p.source.to_string();
    }
    super::presets::apply(&mut settings, &mut provenance);
    super::presets::check(&settings, &provenance)?;
    Ok(Resolved {
        settings,
        has_url,
        provenance,
    })
}

/// The session keys from `layers`, and where each came from.
pub fn session(layers: &[&Layer]) -> Result<(SessionOptions, Vec<Provenance>), ConfigError> {
    let resolved = resolve_scope(layers, Scope::Session)?;
    let mut options = SessionOptions::default();
    let r = crate::engine::redact::Redactor::default();
    let mut provenance = Vec::new();
    for (key, value, source) in resolved {
        provenance.push(Provenance {
            key: key.name,
            value: key.kind.show(&value, &r),
            source,
        });
        if let Slot::Session { set, .. } = key.slot {
            set(&mut options, value);
        }
    }
    Ok((options, provenance))
}

/// `reconnect_min` must not exceed `reconnect_max`; the message names the one that was set.
fn check_reconnect_range(resolved: &[(&'static Key, Value, Source)]) -> Result<(), ConfigError> {
    let get = |name: &str| {
        resolved
            .iter()
            .find(|(k, _, _)| k.name == name)
            .and_then(|(k, v, s)| match v {
                Value::Duration(d) => Some((*k, *d, s)),
                _ => None,
            })
    };
    let (Some((min_key, min, min_src)), Some((max_key, max, max_src))) =
        (get("reconnect_min"), get("reconnect_max"))
    else {
        return Ok(());
    };
    if max >= min {
        return Ok(());
    }
    if *max_src == Source::Default {
        // Only reconnect_min was set: it is the one to fix.
        return Err(invalid(
            min_key,
            min_src,
            format!(
                "must be at most reconnect_max ({}, the default), got {}: lower it, or raise reconnect_max too",
                text::duration(max),
                text::duration(min)
            ),
        ));
    }
    Err(invalid(
        max_key,
        max_src,
        format!(
            "must be at least reconnect_min ({}), got {}",
            text::duration(min),
            text::duration(max)
        ),
    ))
}

/// With no proxy set anywhere, the environment variable for the URL's scheme names one,
/// unless `NO_PROXY` exempts the host.
fn proxy_from_env(
    settings: &mut ConnSettings,
    provenance: &mut [Provenance],
    has_url: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let Some(p) = provenance.iter_mut().find(|p| p.key == "proxy") else {
        return Ok(());
    };
    if p.source != Source::Default {
        return Ok(());
    }
    let names: &[&str] = if settings.target.is_secure() {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let Some((name, text)) = names.iter().find_map(|n| {
        env(n)
            .filter(|v| !v.trim().is_empty())
            .map(|v| (n.to_string(), v))
    }) else {
        return Ok(());
    };
    let source = Source::Env(name);
    let proxy = super::values::parse_proxy(&text).map_err(|m| ConfigError::Invalid {
        at: at("proxy", &source),
        message: m,
    })?;
    p.source = source;
    let host = settings.target.host().to_string();
    let no_proxy = env("NO_PROXY")
        .or_else(|| env("no_proxy"))
        .unwrap_or_default();
    if has_url && no_proxy_matches(&no_proxy, &host) {
        p.value = format!("(none: NO_PROXY matches {host})");
        settings.proxy = None;
    } else {
        p.value = proxy
            .as_ref()
            .map_or_else(|| "(none)".to_string(), |p| format!("{:?}", p.shown));
        settings.proxy = proxy;
    }
    Ok(())
}

/// The demo's endpoint: its URL is the demo server's, and it shows RTT within seconds unless a
/// heartbeat was chosen explicitly.
pub fn demo(r: &mut Resolved) {
    for p in r.provenance.iter_mut() {
        match p.key {
            "url" => {
                p.value = "(the demo server, on a free loopback port)".into();
                p.source = Source::Demo;
            }
            "ping_interval" if p.source == Source::Default => {
                let d = Duration::from_secs(2);
                r.settings.ping_interval = Some(d);
                p.value = format!("{:?}", text::duration(d));
                p.source = Source::Demo;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_variables_name_their_header() {
        let vars = [
            ("WSMON_HEADER_AUTHORIZATION", "Bearer t"),
            ("WSMON_HEADER_X_API_KEY", "k"),
            ("HOME", "/root"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(
            super::env_headers(vars).unwrap(),
            [
                ("Authorization".to_string(), "Bearer t".to_string()),
                ("X-Api-Key".to_string(), "k".to_string())
            ]
        );
    }
}
