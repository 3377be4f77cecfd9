//! `[module.NAME]` tables: how `/probe` probes a target, as a blackbox exporter's modules do.
//! A module is an endpoint's connection keys without the URL (the probe's `target` gives it),
//! plus `expect` (a regex a received message must match) and `timeout`.

use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use toml::Spanned;
use toml::de::DeValue;

use super::file::{Lines, LoadedFile, Syntax, Table, entry, known, unknown};
use super::keys::{Scope, Value};
use super::layer::{self, Given, Layer};
use super::{ConfigError, Source};
use crate::probe::{DEFAULT_MODULE, ProbeSpec, Prober, Refusal};

/// The longest a probe may take, whatever a module or a scrape asks.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// The shortest module timeout accepted.
pub(crate) const MIN_TIMEOUT: Duration = Duration::from_millis(100);
/// A module's timeout when it sets none (blackbox exporter's default).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// One `[module.NAME]` table.
#[derive(Clone, Debug)]
pub struct ModuleTable {
    /// Its name (`/probe?module=NAME`).
    pub name: String,
    /// The line of its header.
    pub line: usize,
    /// Its connection keys.
    pub table: Table,
    /// A regex that a received message must match, and its line.
    pub expect: Option<(String, usize)>,
    /// How long the probe may take at most.
    pub timeout: Option<Duration>,
    /// Whether the probe sends a WebSocket ping and waits for its pong (default yes).
    pub ping: Option<bool>,
}

/// The module keys that are not connection keys.
const OWN_KEYS: [&str; 3] = ["expect", "timeout", "ping"];

/// The `[module.NAME]` tables of a file.
pub(super) fn tables(
    v: &Spanned<DeValue<'_>>,
    lines: &Lines,
    syntax: &Syntax<'_>,
) -> Result<Vec<ModuleTable>, ConfigError> {
    let DeValue::Table(t) = v.get_ref() else {
        return Err(syntax(
            v.span().start,
            "`module` must be tables: write [module.NAME] and its keys below it (probe with /probe?target=URL&module=NAME)".into(),
        ));
    };
    let mut out = Vec::new();
    for (name, v) in t.iter() {
        let module = name.get_ref().to_string();
        let at = name.span().start;
        if module.is_empty()
            || module.len() > 64
            || !module
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(syntax(
                at,
                format!(
                    "[module.{module}]: a module's name is 1 to 64 letters, digits, `_` or `-` (it goes in a URL)"
                ),
            ));
        }
        let DeValue::Table(keys) = v.get_ref() else {
            return Err(syntax(
                v.span().start,
                format!(
                    "`module.{module}` must be a table: write [module.{module}] and its keys below it"
                ),
            ));
        };
        let mut m = ModuleTable {
            name: module.clone(),
            line: lines.of_offset(at),
            table: Table::default(),
            expect: None,
            timeout: None,
            ping: None,
        };
        for (k, v) in keys.iter() {
            let key_name = k.get_ref().as_ref();
            let here = v.span().start;
            match (key_name, v.get_ref()) {
                ("expect", DeValue::String(s)) => {
                    Regex::new(s).map_err(|e| {
                        syntax(
                            here,
                            format!("[module.{module}] expect: not a regex ({})", one_line(&e)),
                        )
                    })?;
                    m.expect = Some((s.to_string(), lines.of_offset(here)));
                }
                ("timeout", DeValue::String(s)) => {
                    let d = super::values::parse_duration(s)
                        .map_err(|e| syntax(here, format!("[module.{module}] timeout: {e}")))?;
                    if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&d) {
                        return Err(syntax(
                            here,
                            format!(
                                "[module.{module}] timeout = \"{s}\": give 100ms to 300s (a scrape's own timeout shortens it)"
                            ),
                        ));
                    }
                    m.timeout = Some(d);
                }
                ("ping", DeValue::Boolean(b)) => m.ping = Some(*b),
                (own, _) if OWN_KEYS.contains(&own) => {
                    let shape = match own {
                        "expect" => "a regex in quotes, e.g. expect = '\"type\":\\s*\"welcome\"'",
                        "timeout" => "a duration in quotes, e.g. timeout = \"5s\"",
                        _ => "true or false",
                    };
                    return Err(syntax(
                        here,
                        format!("[module.{module}] {own}: give {shape}"),
                    ));
                }
                ("url", _) => {
                    return Err(syntax(
                        k.span().start,
                        format!(
                            "[module.{module}] cannot set `url`: the probe's target gives it (/probe?target=wss://host/path&module={module})"
                        ),
                    ));
                }
                _ => {
                    let key =
                        known(key_name).ok_or_else(|| syntax(k.span().start, unknown(key_name)))?;
                    if key.scope == Scope::Session {
                        return Err(syntax(
                            k.span().start,
                            format!(
                                "`{key_name}` is a setting of the whole run, not of a probe: move it above the first table"
                            ),
                        ));
                    }
                    m.table.entries.push(entry(key, v, lines, syntax)?);
                }
            }
        }
        out.push(m);
    }
    Ok(out)
}

/// A regex error in one line (the regex crate draws a caret diagram over several).
fn one_line(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .unwrap_or("invalid syntax")
            .trim_start_matches("error:")
            .trim()
            .to_string(),
        other => other.to_string(),
    }
}

/// A module ready to resolve a target: its layer and its own keys.
#[derive(Clone, Debug)]
struct Module {
    name: String,
    layer: Layer,
    expect: Option<Regex>,
    timeout: Duration,
    ping: bool,
}

/// The prober of this run: the file's modules (and `websocket`, the top level's settings
/// alone, unless the file defines it), each checked now against a placeholder target, so a
/// bad module is refused at start and a probe can only fail on its target.
pub(crate) fn prober(cli: &Layer, file: Option<&LoadedFile>) -> Result<Prober, ConfigError> {
    let top = file
        .map(|f| layer::from_table(f, &f.top))
        .unwrap_or_default();
    let mut modules: Vec<Module> = Vec::new();
    let tables = file.map_or(&[][..], |f| &f.modules[..]);
    if !tables.iter().any(|t| t.name == DEFAULT_MODULE) {
        modules.push(Module {
            name: DEFAULT_MODULE.to_string(),
            layer: Vec::new(),
            expect: None,
            timeout: DEFAULT_TIMEOUT,
            ping: true,
        });
    }
    for t in tables {
        let f = file.expect("tables come from a file");
        modules.push(Module {
            name: t.name.clone(),
            layer: layer::from_table(f, &t.table),
            expect: t
                .expect
                .as_ref()
                .map(|(re, _)| Regex::new(re).expect("checked when read")),
            timeout: t.timeout.unwrap_or(DEFAULT_TIMEOUT),
            ping: t.ping.unwrap_or(true),
        });
    }
    let file: Option<Arc<LoadedFile>> = file.map(|f| Arc::new(f.clone()));
    let cli = cli.clone();
    let env = |k: &str| std::env::var(k).ok();
    for m in &modules {
        resolve(m, "ws://probe.invalid/", &cli, &top, file.as_deref(), &env).map_err(
            |e| match (
                e,
                file.as_deref()
                    .and_then(|f| f.modules.iter().find(|t| t.name == m.name)),
            ) {
                (ConfigError::Invalid { at, message }, Some(t)) => ConfigError::Invalid {
                    at: format!("[module.{}] (line {}) {at}", t.name, t.line),
                    message,
                },
                (e, _) => e,
            },
        )?;
    }
    let names = modules.iter().map(|m| m.name.clone()).collect();
    Ok(Prober::new(
        names,
        Box::new(move |module: &str, target: &str| {
            let m = modules
                .iter()
                .find(|m| m.name == module)
                .ok_or_else(|| Refusal::UnknownModule(module.to_string()))?;
            resolve(m, target, &cli, &top, file.as_deref(), &env)
                .map_err(|e| Refusal::BadTarget(e.to_string()))
        }),
    ))
}

/// A module's settings for one target: the target over the flags over the module over the
/// file's top level, as an `[[endpoint]]` table is resolved.
fn resolve(
    m: &Module,
    target: &str,
    cli: &Layer,
    top: &Layer,
    file: Option<&LoadedFile>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProbeSpec, ConfigError> {
    let url_key = super::keys::find("url").expect("the url key");
    let given: Layer = vec![Given {
        key: url_key,
        value: Value::Text(Some(target.to_string())),
        source: Source::Cli("url"),
    }];
    let resolved = layer::connection(&[&given, cli, &m.layer, top], file, env)?;
    Ok(ProbeSpec {
        settings: resolved.settings,
        expect: m.expect.clone(),
        timeout: m.timeout,
        ping: m.ping,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::file;

    fn parse(text: &str) -> Result<LoadedFile, ConfigError> {
        file::parse(Path::new("/cfg/wsmon.toml"), text.to_string())
    }

    fn line_and_message(e: ConfigError) -> (usize, String) {
        match e {
            ConfigError::Syntax { line, message, .. } => (line, message),
            other => panic!("not a syntax error: {other}"),
        }
    }

    #[test]
    fn a_module_is_an_endpoint_s_keys_over_the_top_level_with_its_own() {
        let f = parse(
            "insecure = true\nconnect_timeout = \"7s\"\n\n[module.feed]\nexpect = 'tick \\d+'\ntimeout = \"2s\"\nping = false\nconnect_timeout = \"3s\"\n[module.feed.headers]\nAuthorization = \"Bearer x\"\n",
        )
        .unwrap();
        let p = prober(&Vec::new(), Some(&f)).unwrap();
        assert_eq!(p.modules(), ["websocket", "feed"]);
        let spec = p.resolve("feed", "wss://h.example/path").unwrap();
        assert!(spec.settings.insecure, "the top level's");
        assert_eq!(spec.settings.connect_timeout, Duration::from_secs(3));
        assert!(
            spec.settings
                .headers
                .contains(&("Authorization".into(), "Bearer x".into()))
        );
        assert_eq!(spec.settings.shown_url(), "wss://h.example/path");
        assert!(spec.expect.unwrap().is_match("tick 42"));
        assert_eq!(spec.timeout, Duration::from_secs(2));
        assert!(!spec.ping);
        let plain = p.resolve("websocket", "ws://h/").unwrap();
        assert_eq!(plain.settings.connect_timeout, Duration::from_secs(7));
        assert!(plain.expect.is_none() && plain.ping);
        assert_eq!(plain.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            p.resolve("nope", "ws://h/").unwrap_err(),
            Refusal::UnknownModule("nope".into())
        );
        assert!(matches!(
            p.resolve("feed", "http://h/").unwrap_err(),
            Refusal::BadTarget(_)
        ));
    }

    #[test]
    fn a_bad_module_is_refused_with_its_line_and_the_fix() {
        let (line, m) =
            line_and_message(parse("[module.a]\n\nexpect = '(unclosed'\n").unwrap_err());
        assert_eq!(line, 3);
        assert!(m.contains("[module.a] expect: not a regex"), "{m}");
        let (line, m) = line_and_message(parse("[module.a]\nurl = \"ws://x/\"\n").unwrap_err());
        assert_eq!(line, 2);
        assert!(m.contains("the probe's target gives it"), "{m}");
        let (_, m) = line_and_message(parse("[module.a]\ntimeout = \"10m\"\n").unwrap_err());
        assert!(m.contains("give 100ms to 300s"), "{m}");
        let (_, m) = line_and_message(parse("[module.a]\ntimeout = 5\n").unwrap_err());
        assert!(m.contains("a duration in quotes"), "{m}");
        let (_, m) = line_and_message(parse("[module.a]\nfps = 5\n").unwrap_err());
        assert!(m.contains("a setting of the whole run"), "{m}");
        let (_, m) = line_and_message(parse("[module.a]\nping_intervall = \"5s\"\n").unwrap_err());
        assert!(m.contains("did you mean `ping_interval`"), "{m}");
        let (_, m) = line_and_message(parse("[module.\"a b\"]\n").unwrap_err());
        assert!(m.contains("letters, digits"), "{m}");
        let (_, m) = line_and_message(parse("module = 3\n").unwrap_err());
        assert!(m.contains("write [module.NAME]"), "{m}");
        // A module whose keys do not resolve is refused at start, naming it.
        let f = parse("[module.mq]\npreset = \"no-such-preset\"\n");
        let e = match f {
            Ok(f) => prober(&Vec::new(), Some(&f)).unwrap_err().to_string(),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("no-such-preset"), "{e}");
    }
}
