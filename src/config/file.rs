//! The config file: its schema is the key table; every key is optional, unknown keys are
//! refused with the nearest known one, and every error names the line.

use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;
use super::keys::{self, Key, Scope, Value};

/// One value set in the file, in its kind's shape, with the line that set it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key.
    pub key: &'static Key,
    /// The value as written (shaped, not yet checked against its range).
    pub value: Value,
    /// The 1-based line.
    pub line: usize,
}

/// The keys set in one table of the file (the top level, or an `[[endpoint]]`).
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// What was set, in file order.
    pub entries: Vec<Entry>,
}

impl Table {
    /// The entry for `name`, if the table sets it.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key.name == name)
    }
}

/// One `[[endpoint]]` table.
#[derive(Clone, Debug)]
pub struct EndpointTable {
    /// The line of its `[[endpoint]]` header.
    pub line: usize,
    /// Its `name`, and that line.
    pub name: Option<(String, usize)>,
    /// Its connection keys.
    pub table: Table,
}

/// One `[preset.NAME]` table: an application protocol of the user's, without code.
#[derive(Clone, Debug)]
pub struct PresetTable {
    /// Its name (`--preset NAME`).
    pub name: String,
    /// The line of its header.
    pub line: usize,
    /// Its keys (those `PRESET_KEYS` allows).
    pub table: Table,
    /// Its `subscribe` message, `{}` standing for each `subscribe` value, and that line.
    pub template: Option<(String, usize)>,
}

/// The keys a `[preset.NAME]` table may set (besides `subscribe`, its template).
pub(crate) const PRESET_KEYS: [&str; 7] = [
    "subprotocols",
    "on_open",
    "app_ping",
    "app_pong",
    "app_ping_interval",
    "auto_reply",
    "stale_after",
];

/// A parsed config file.
#[derive(Clone, Debug)]
pub struct LoadedFile {
    /// Where it came from.
    pub path: PathBuf,
    /// The top-level keys.
    pub top: Table,
    /// The `[[endpoint]]` tables, in order.
    pub endpoints: Vec<EndpointTable>,
    /// The `[preset.NAME]` tables.
    pub presets: Vec<PresetTable>,
    /// The dashboard's keys with the `[keys]` table applied.
    pub keymap: crate::keymap::Keymap,
    /// The `[module.NAME]` tables: how `/probe` probes.
    pub modules: Vec<super::modules::ModuleTable>,
}

impl LoadedFile {
    /// The `[preset.NAME]` called `name`.
    pub fn preset(&self, name: &str) -> Option<&PresetTable> {
        self.presets.iter().find(|p| p.name == name)
    }
}

/// The largest config file read: a fleet of 100,000 endpoints fits; `/dev/zero` does not.
pub(crate) const MAX_FILE: u64 = 64 << 20;

/// Reads and parses a config file.
pub fn load(path: &Path) -> Result<LoadedFile, ConfigError> {
    let text = crate::bounded::read_file(path, MAX_FILE).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_string(),
            std::io::ErrorKind::FileTooLarge => {
                format!("{e}, and a config file is a few kilobytes: is this the file you meant?")
            }
            _ => e.to_string(),
        },
    })?;
    parse(path, text)
}

/// Parses config text that came from `path`.
pub fn parse(path: &Path, text: String) -> Result<LoadedFile, ConfigError> {
    let lines = Lines::of(&text);
    let syntax = |offset: usize, message: String| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: lines.of_offset(offset),
        message,
    };
    let doc = DeTable::parse(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        syntax(offset, e.message().trim().to_string())
    })?;
    let mut top = Table::default();
    let mut endpoints = Vec::new();
    let mut presets = Vec::new();
    let mut keymap = crate::keymap::Keymap::default();
    let mut modules = Vec::new();
    for (k, v) in doc.get_ref().iter() {
        let name = k.get_ref().as_ref();
        if name == "endpoint" {
            endpoints = endpoint_tables(v, &lines, &syntax)?;
            continue;
        }
        if name == "preset"
            && let DeValue::Table(t) = v.get_ref()
        {
            presets = preset_tables(t, &lines, &syntax)?;
            continue;
        }
        if name == "module" {
            modules = super::modules::tables(v, &lines, &syntax)?;
            continue;
        }
        if name == "keys" {
            keymap = key_table(v, &lines, &syntax).and_then(|o| {
                crate::keymap::Keymap::build(&o).map_err(|(line, message)| ConfigError::Syntax {
                    path: path.to_path_buf(),
                    line: line.max(lines.of_offset(k.span().start)),
                    message,
                })
            })?;
            continue;
        }
        let key = known(name).ok_or_else(|| syntax(k.span().start, unknown(name)))?;
        top.entries.push(entry(key, v, &lines, &syntax)?);
    }
    Ok(LoadedFile {
        path: path.to_path_buf(),
        top,
        endpoints,
        presets,
        keymap,
        modules,
    })
}

/// The `[keys]` table: each action's keys, a text or a list of texts.
fn key_table(
    v: &Spanned<DeValue<'_>>,
    lines: &Lines,
    syntax: &Syntax<'_>,
) -> Result<Vec<crate::keymap::KeyOverride>, ConfigError> {
    let DeValue::Table(t) = v.get_ref() else {
        return Err(syntax(
            v.span().start,
            "`keys` must be a table: write [keys] and below it lines such as reconnect = [\"F5\", \"Ctrl-R\"]".into(),
        ));
    };
    let mut out = Vec::new();
    for (name, v) in t.iter() {
        let texts = match v.get_ref() {
            DeValue::String(s) => vec![s.to_string()],
            DeValue::Array(a) => a
                .iter()
                .map(|x| match x.get_ref() {
                    DeValue::String(s) => Some(s.to_string()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    syntax(
                        v.span().start,
                        format!(
                            "[keys] {}: keys are texts in quotes, e.g. [\"F5\", \"Ctrl-R\"]",
                            name.get_ref()
                        ),
                    )
                })?,
            _ => {
                return Err(syntax(
                    v.span().start,
                    format!(
                        "[keys] {}: give a key in quotes or a list of them, e.g. [\"F5\", \"Ctrl-R\"] ([] leaves only the /command)",
                        name.get_ref()
                    ),
                ));
            }
        };
        out.push(crate::keymap::KeyOverride {
            action: name.get_ref().to_string(),
            keys: texts,
            line: lines.of_offset(name.span().start),
        });
    }
    Ok(out)
}

/// The `[preset.NAME]` tables: each a few connection keys and a subscribe template.
fn preset_tables(
    t: &DeTable<'_>,
    lines: &Lines,
    syntax: &Syntax<'_>,
) -> Result<Vec<PresetTable>, ConfigError> {
    let mut out = Vec::new();
    for (name, v) in t.iter() {
        let preset = name.get_ref().to_string();
        let DeValue::Table(keys) = v.get_ref() else {
            return Err(syntax(
                v.span().start,
                format!(
                    "`preset.{preset}` must be a table: write [preset.{preset}] and its keys below it (a file that defines presets chooses one with --preset or in an [[endpoint]])"
                ),
            ));
        };
        if crate::engine::Preset::named(&preset).is_some() || preset == "none" || preset == "list" {
            return Err(syntax(
                name.span().start,
                format!(
                    "[preset.{preset}]: `{preset}` is a built-in preset's name; give yours another"
                ),
            ));
        }
        let mut p = PresetTable {
            name: preset.clone(),
            line: lines.of_offset(name.span().start),
            table: Table::default(),
            template: None,
        };
        for (k, v) in keys.iter() {
            let key_name = k.get_ref().as_ref();
            if key_name == "subscribe" {
                let DeValue::String(s) = v.get_ref() else {
                    return Err(syntax(
                        v.span().start,
                        "`subscribe` in a [preset.NAME] is the message to send for each subscription, {} standing for its value: text in quotes".into(),
                    ));
                };
                p.template = Some((s.to_string(), lines.of_offset(v.span().start)));
                continue;
            }
            if !PRESET_KEYS.contains(&key_name) {
                return Err(syntax(
                    k.span().start,
                    format!(
                        "`{key_name}` cannot be set in [preset.{preset}]: a preset sets {}, and subscribe",
                        PRESET_KEYS.join(", ")
                    ),
                ));
            }
            let key = known(key_name).expect("the preset keys are keys");
            p.table.entries.push(entry(key, v, lines, syntax)?);
        }
        out.push(p);
    }
    Ok(out)
}

pub(super) type Syntax<'a> = dyn Fn(usize, String) -> ConfigError + 'a;

/// A key's value, shaped by its kind.
pub(super) fn entry(
    key: &'static Key,
    v: &Spanned<DeValue<'_>>,
    lines: &Lines,
    syntax: &Syntax<'_>,
) -> Result<Entry, ConfigError> {
    // Inside a table, the line to name is the entry's.
    if let DeValue::Table(t) = v.get_ref()
        && let Some((name, bad)) = t
            .iter()
            .find(|(_, v)| !matches!(v.get_ref(), DeValue::String(_)))
    {
        return Err(syntax(
            bad.span().start,
            format!(
                "`{}`: the value of `{}` must be text in quotes",
                key.name,
                name.get_ref()
            ),
        ));
    }
    let value = key
        .kind
        .read_toml(v.get_ref())
        .map_err(|m| syntax(v.span().start, format!("`{}`: {m}", key.name)))?;
    Ok(Entry {
        key,
        value,
        line: lines.of_offset(v.span().start),
    })
}

/// The `[[endpoint]]` tables: a name, and connection keys only.
fn endpoint_tables(
    v: &Spanned<DeValue<'_>>,
    lines: &Lines,
    syntax: &Syntax<'_>,
) -> Result<Vec<EndpointTable>, ConfigError> {
    let DeValue::Array(items) = v.get_ref() else {
        return Err(syntax(
            v.span().start,
            "`endpoint` must be a list of [[endpoint]] tables, each with a name and a url".into(),
        ));
    };
    let mut out = Vec::new();
    for item in items {
        let DeValue::Table(t) = item.get_ref() else {
            return Err(syntax(
                item.span().start,
                "each endpoint must be an [[endpoint]] table".into(),
            ));
        };
        let mut ep = EndpointTable {
            line: lines.of_offset(item.span().start),
            name: None,
            table: Table::default(),
        };
        for (k, v) in t.iter() {
            let name = k.get_ref().as_ref();
            if name == "name" {
                let DeValue::String(s) = v.get_ref() else {
                    return Err(syntax(
                        v.span().start,
                        "`name`: expected text in quotes".into(),
                    ));
                };
                ep.name = Some((s.to_string(), lines.of_offset(v.span().start)));
                continue;
            }
            let key = known(name).ok_or_else(|| syntax(k.span().start, unknown(name)))?;
            if key.scope == Scope::Session {
                return Err(syntax(
                    k.span().start,
                    format!(
                        "`{name}` is a setting of the whole run, not of one endpoint: move it above the first [[endpoint]]"
                    ),
                ));
            }
            ep.table.entries.push(entry(key, v, lines, syntax)?);
        }
        out.push(ep);
    }
    Ok(out)
}

pub(super) fn known(name: &str) -> Option<&'static Key> {
    keys::find(name)
}

pub(super) fn unknown(name: &str) -> String {
    let hint = match nearest_key(name) {
        Some(k) => format!(" (did you mean `{k}`?)"),
        None => String::new(),
    };
    format!("unknown key `{name}`{hint}; config.toml in the wsmon repository lists every key")
}

/// The 1-based line of a byte offset.
/// Where each line of a file starts, to name the line of an offset without counting from the
/// top each time (a fleet's file has tens of thousands of entries).
pub(super) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn of(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { starts }
    }

    /// The 1-based line of a byte offset.
    pub(super) fn of_offset(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// The known key closest to a misspelt one, if it is close.
fn nearest_key(word: &str) -> Option<&'static str> {
    keys::all_names()
        .map(|k| (edit_distance(word, k), k))
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
    fn the_keys_table_rebinds_actions_and_names_the_line_of_a_bad_one() {
        use crate::keymap::{Act, Key};
        let f = parse(
            Path::new("/etc/w.toml"),
            "url = \"ws://h\"\n[keys]\nreconnect = [\"Ctrl-X\", \"F5\"]\nrecord = []\nping = \"Alt-P\"\nprev = \"Shift-F3\"\n".into(),
        )
        .unwrap();
        assert_eq!(f.keymap.lookup(Key::ctrl('x')), Some(Act::Reconnect));
        assert_eq!(f.keymap.lookup(Key::f(6)), None);
        assert_eq!(f.keymap.lookup(Key::alt('p')), Some(Act::Ping));
        let e = err("url = \"ws://h\"\n[keys]\nping = \"F4\"\nrecord = \"Ctrl-A\"\n");
        assert!(
            e.starts_with("config file `/etc/w.toml` line 4: [keys] record = \"Ctrl-A\": Ctrl-A cannot be bound, line editing uses it"),
            "{e}"
        );
        let e = err("[keys]\nreconect = \"F5\"\n");
        assert!(
            e.contains("line 2: [keys]: `reconect` is not an action"),
            "{e}"
        );
        let e = err("[keys]\nping = 4\n");
        assert!(
            e.contains("line 2: [keys] ping: give a key in quotes"),
            "{e}"
        );
        let e = err("keys = 3\n");
        assert!(e.contains("`keys` must be a table"), "{e}");
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
        let e = err("subprotocols = \"v1\"\n");
        assert!(e.contains("expected a list"), "{e}");
        let e = err("[headers]\nX = 1\n");
        assert!(e.contains("line 2") && e.contains("`headers`"), "{e}");
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
            f.top.get("ping_interval").unwrap().value,
            Value::Duration(std::time::Duration::ZERO)
        );
    }

    #[test]
    fn endpoint_tables_take_connection_keys_only() {
        let f = parse(
            Path::new("x"),
            "fps = 10\n[[endpoint]]\nname = \"a\"\nurl = \"ws://a\"\nping_interval = \"5s\"\n"
                .into(),
        )
        .unwrap();
        assert_eq!(f.endpoints.len(), 1);
        assert_eq!(f.endpoints[0].line, 2);
        assert_eq!(f.endpoints[0].name, Some(("a".into(), 3)));
        assert_eq!(f.endpoints[0].table.get("ping_interval").unwrap().line, 5);
        let e = err("[[endpoint]]\nurl = \"ws://a\"\nfps = 10\n");
        assert!(
            e.contains("line 3") && e.contains("`fps` is a setting of the whole run"),
            "{e}"
        );
        let e = err("[[endpoint]]\npong_timout = \"1s\"\n");
        assert!(e.contains("did you mean `pong_timeout`"), "{e}");
    }
}
