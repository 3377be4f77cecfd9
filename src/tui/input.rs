//! The input line: what a submitted line means (a message or a slash command) and the history
//! of submitted lines, kept across runs.

use std::path::PathBuf;

use bytes::Bytes;

use crate::engine::close_code::{close_code_name, is_sendable_close_code};
use crate::engine::{Command, Kind};
use crate::text::parse_hex;
use crate::tui::bindings::Act;
use crate::tui::log::Filter;

/// Lines of history kept.
const HISTORY_MAX: usize = 1000;

/// What a submitted line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Tell the engine something (send, ping, reconnect, close).
    Engine(Command),
    /// Send to every endpoint that is open now.
    Broadcast(Command),
    /// What an action's key does (`/record` is F6).
    Key(Act),
    /// Find a text.
    Find(String),
    /// Show only the rows containing a text (empty: all rows).
    Grep(String),
    /// Show one kind of row.
    Filter(Filter),
    /// The line could not be understood; the text says how to fix it.
    Error(String),
}

/// Interprets a submitted line. A message is a line the engine puts in the form of the
/// preset spoken on the connection it goes out on (Socket.IO: `event {json}` emits the event
/// in the joined namespace; MQTT: `topic payload` publishes); `/raw` sends it as it is.
pub fn parse_line(line: &str) -> Action {
    let message = |text: &str| {
        Action::Engine(Command::Emit {
            line: text.to_string(),
        })
    };
    if let Some(literal) = line.strip_prefix("//") {
        return message(&format!("/{literal}"));
    }
    let Some(rest) = line.strip_prefix('/') else {
        return message(line);
    };
    let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let args = args.trim();
    match name {
        "ping" => Action::Engine(Command::Ping),
        "reconnect" => Action::Engine(Command::Reconnect),
        "find" | "search" if args.is_empty() => Action::Key(Act::FindNew),
        "find" | "search" => Action::Find(args.to_string()),
        "grep" => Action::Grep(args.to_string()),
        "filter" => match args {
            "" => Action::Key(Act::Filter),
            "all" => Action::Filter(Filter::All),
            "in" => Action::Filter(Filter::In),
            "out" => Action::Filter(Filter::Out),
            "events" => Action::Filter(Filter::Events),
            other => Action::Error(format!(
                "/filter: `{other}` is not a kind: use in, out, events or all"
            )),
        },
        "raw" if args.is_empty() => {
            Action::Error("/raw: give the text to send as it is, e.g. /raw 42[\"hi\"]".into())
        }
        "raw" => send_text(args),
        "binary" => match parse_hex(args) {
            Ok(data) => Action::Engine(Command::Send {
                kind: Kind::Binary,
                data: Bytes::from(data),
            }),
            Err(e) => Action::Error(format!("/binary: {e}")),
        },
        "close" => parse_close(args),
        "broadcast" if args.is_empty() => {
            Action::Error("/broadcast: give the text to send, e.g. /broadcast hello".into())
        }
        "broadcast" => Action::Broadcast(Command::Emit {
            line: args.to_string(),
        }),
        // A name with a slash is a path (a STOMP destination, `/queue/orders hello`), not a
        // command: it is sent.
        other if other.contains('/') => message(line),
        other if let Some(act) = crate::keymap::named(other).and_then(|a| a.act) => {
            Action::Key(act)
        }
        other => Action::Error(format!(
            "unknown command /{other}: try /help for the list (// sends a text that starts with /)"
        )),
    }
}

fn send_text(text: &str) -> Action {
    Action::Engine(Command::Send {
        kind: Kind::Text,
        data: Bytes::copy_from_slice(text.as_bytes()),
    })
}

fn parse_close(args: &str) -> Action {
    let (code_text, reason) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
    let code = if code_text.is_empty() {
        1000
    } else {
        match code_text.parse::<u16>() {
            Ok(c) if is_sendable_close_code(c) => c,
            Ok(c) => {
                return Action::Error(format!(
                    "/close: {c} ({}) cannot be sent; use 1000, 1001, 1008, 1011 or 3000-4999",
                    close_code_name(c)
                ));
            }
            Err(_) => {
                return Action::Error(format!(
                    "/close: `{code_text}` is not a close code; e.g. /close 1000 done"
                ));
            }
        }
    };
    let reason = reason.trim();
    if reason.len() > 123 {
        return Action::Error(format!(
            "/close: the reason is {} bytes; at most 123 fit in a close frame",
            reason.len()
        ));
    }
    Action::Engine(Command::Close {
        code,
        reason: reason.to_string(),
    })
}

/// Submitted lines, newest last, with Up/Down browsing.
#[derive(Debug, Default)]
pub struct History {
    entries: Vec<String>,
    browsing: Option<usize>,
    draft: String,
    path: Option<PathBuf>,
    loaded: bool,
}

impl History {
    /// History that reads `path` on first use (missing or unreadable means empty), so a
    /// fleet of dashboards does not read the file once per endpoint at startup.
    pub fn load(path: Option<PathBuf>) -> History {
        History {
            entries: Vec::new(),
            browsing: None,
            draft: String::new(),
            path,
            loaded: false,
        }
    }

    fn ensure_loaded(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let mut entries = self
            .path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| {
                t.lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let skip = entries.len().saturating_sub(HISTORY_MAX);
        entries.drain(..skip);
        // Lines pushed before the first load stay newest.
        entries.append(&mut self.entries);
        self.entries = entries;
    }

    /// Entries, oldest first.
    pub(crate) fn entries(&mut self) -> &[String] {
        self.ensure_loaded();
        &self.entries
    }

    /// Records a submitted line; returns what to append to the history file, if anything.
    pub fn push(&mut self, line: &str) -> Option<(PathBuf, String)> {
        self.ensure_loaded();
        self.browsing = None;
        if line.is_empty() || line.contains('\n') || self.entries.last().is_some_and(|l| l == line)
        {
            return None;
        }
        self.entries.push(line.to_string());
        if self.entries.len() > HISTORY_MAX {
            self.entries.remove(0);
        }
        self.path.clone().map(|p| (p, format!("{line}\n")))
    }

    /// Up: an older line; `current` is kept to come back to.
    pub fn older(&mut self, current: &str) -> Option<&str> {
        self.ensure_loaded();
        let next = match self.browsing {
            None => {
                self.draft = current.to_string();
                self.entries.len().checked_sub(1)?
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.browsing = Some(next);
        self.entries.get(next).map(String::as_str)
    }

    /// Down: a newer line, and finally what was being typed.
    pub fn newer(&mut self) -> Option<&str> {
        let i = self.browsing?;
        if i + 1 < self.entries.len() {
            self.browsing = Some(i + 1);
            self.entries.get(i + 1).map(String::as_str)
        } else {
            self.browsing = None;
            Some(&self.draft)
        }
    }
}

/// Appends a line to the history file (blocking: the loop runs it on the blocking pool); the
/// file is rewritten when it grows far beyond the kept length.
pub(crate) fn append_history(path: &std::path::Path, line: &str) {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        let _ = crate::paths::create_private_dir(dir);
    }
    if let Ok(mut f) = crate::paths::open_private(path, true) {
        crate::paths::make_private(path);
        let _ = f.write_all(line.as_bytes());
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 1 << 20) {
        let mut kept = History::load(Some(path.to_path_buf()));
        let _ = crate::paths::write_private(path, (kept.entries().join("\n") + "\n").as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(line: &str) -> Action {
        Action::Engine(Command::Emit { line: line.into() })
    }

    #[test]
    fn plain_lines_are_put_in_the_presets_form_and_raw_sends_as_typed() {
        assert_eq!(parse_line("hello"), emit("hello"));
        assert_eq!(parse_line("//etc/passwd"), emit("/etc/passwd"));
        assert_eq!(parse_line("/raw 2probe"), send_text("2probe"));
        assert_eq!(
            parse_line("/broadcast hi all"),
            Action::Broadcast(Command::Emit {
                line: "hi all".into()
            })
        );
        assert!(matches!(parse_line("/raw"), Action::Error(e) if e.contains("/raw 42")));
    }

    #[test]
    fn commands() {
        assert_eq!(parse_line("/ping"), Action::Engine(Command::Ping));
        assert_eq!(parse_line("/reconnect"), Action::Engine(Command::Reconnect));
        assert_eq!(parse_line("/clear"), Action::Key(Act::Clear));
        assert_eq!(parse_line("/pings"), Action::Key(Act::Pings));
        assert_eq!(parse_line("/next"), Action::Key(Act::OlderHit));
        assert_eq!(parse_line("/prev"), Action::Key(Act::NewerHit));
        assert_eq!(parse_line("/top"), Action::Key(Act::Oldest));
        assert_eq!(parse_line("/bottom"), Action::Key(Act::Newest));
        assert_eq!(parse_line("/failure"), Action::Key(Act::LastFailure));
        assert_eq!(parse_line("/files"), Action::Key(Act::Files));
        assert_eq!(parse_line("/keys"), Action::Key(Act::Help));
        assert_eq!(parse_line("/find"), Action::Key(Act::FindNew));
        // Every action with a key is a command too.
        for a in crate::keymap::ACTIONS.iter().filter(|a| a.act.is_some()) {
            assert!(
                !matches!(parse_line(&format!("/{}", a.name)), Action::Error(_)),
                "/{} is not understood",
                a.name
            );
        }
        assert_eq!(
            parse_line("/close"),
            Action::Engine(Command::Close {
                code: 1000,
                reason: String::new()
            })
        );
        assert_eq!(
            parse_line("/close 4001 bye now"),
            Action::Engine(Command::Close {
                code: 4001,
                reason: "bye now".into()
            })
        );
        assert_eq!(
            parse_line("/binary c0 ff ee"),
            Action::Engine(Command::Send {
                kind: Kind::Binary,
                data: Bytes::from_static(&[0xc0, 0xff, 0xee])
            })
        );
    }

    #[test]
    fn bad_commands_say_how_to_fix_them() {
        let Action::Error(e) = parse_line("/close 1006") else {
            panic!()
        };
        assert!(
            e.contains("cannot be sent") && e.contains("3000-4999"),
            "{e}"
        );
        let Action::Error(e) = parse_line("/close soon") else {
            panic!()
        };
        assert!(e.contains("not a close code"), "{e}");
        let Action::Error(e) = parse_line("/binary xyz") else {
            panic!()
        };
        assert!(e.starts_with("/binary:"), "{e}");
        let Action::Error(e) = parse_line("/frobnicate") else {
            panic!()
        };
        assert!(e.contains("unknown command /frobnicate"), "{e}");
        let long = format!("/close 1000 {}", "x".repeat(124));
        assert!(matches!(parse_line(&long), Action::Error(_)));
    }

    #[test]
    fn history_browses_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history");
        std::fs::write(&path, "one\ntwo\n").unwrap();
        let mut h = History::load(Some(path.clone()));
        assert_eq!(h.older("draft"), Some("two"));
        assert_eq!(h.older(""), Some("one"));
        assert_eq!(h.older(""), Some("one"));
        assert_eq!(h.newer(), Some("two"));
        assert_eq!(h.newer(), Some("draft"));
        assert_eq!(h.newer(), None);
        assert_eq!(h.push("three"), Some((path.clone(), "three\n".into())));
        assert_eq!(h.push("three"), None, "repeats are not kept twice");
    }
}
