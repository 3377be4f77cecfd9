//! The live dashboard's actions and their keys: the built-in table, changed by the config's
//! `[keys]` table, checked so that no key is bound twice or taken from typing.

mod key;
mod table;

use std::collections::HashMap;

pub use key::{Key, taken_by_editing};
pub use table::{ACTIONS, Act, Action, named};

/// `[keys]`: an action's keys as the config file gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOverride {
    /// The action (`reconnect`).
    pub action: String,
    /// Its keys (`F5`, `Ctrl-R`); empty: only its `/command`.
    pub keys: Vec<String>,
    /// The config file's line that set it (1-based).
    pub line: usize,
}

/// The keys of every live action, after `[keys]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    keys: HashMap<&'static str, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            keys: ACTIONS.iter().map(|a| (a.name, a.keys.to_vec())).collect(),
        }
    }
}

impl Keymap {
    /// The built-in keys with `overrides` applied; an error gives the line and says which
    /// action or key is at fault and what is allowed.
    pub fn build(overrides: &[KeyOverride]) -> Result<Keymap, (usize, String)> {
        let mut map = Keymap::default();
        for o in overrides {
            let action = ACTIONS.iter().find(|a| a.name == o.action).ok_or_else(|| {
                let m = format!(
                    "[keys]: `{}` is not an action; [keys] takes {}",
                    o.action,
                    ACTIONS
                        .iter()
                        .filter(|a| a.act.is_some())
                        .map(|a| a.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                (o.line, m)
            })?;
            if action.act.is_none() {
                return Err((
                    o.line,
                    format!(
                        "[keys]: `{}` needs what follows it on the input line, so it has no key; type /{} {}",
                        o.action, o.action, action.args
                    ),
                ));
            }
            let mut keys = Vec::new();
            for text in &o.keys {
                let k =
                    Key::parse(text).map_err(|e| (o.line, format!("[keys] {}: {e}", o.action)))?;
                if let Some(why) = taken_by_editing(k) {
                    return Err((
                        o.line,
                        format!(
                            "[keys] {} = \"{text}\": {} cannot be bound, {why}; choose a function key or a Ctrl/Alt chord such as {}",
                            o.action,
                            k.name(),
                            map.free_chord(&o.action).name()
                        ),
                    ));
                }
                keys.push(k);
            }
            map.keys.insert(action.name, keys);
        }
        // One key, one action.
        let mut seen: HashMap<Key, &str> = HashMap::new();
        for a in ACTIONS {
            for k in &map.keys[a.name] {
                if let Some(other) = seen.insert(*k, a.name) {
                    let line = overrides
                        .iter()
                        .find(|o| o.action == a.name || o.action == other)
                        .map_or(0, |o| o.line);
                    return Err((
                        line,
                        format!(
                            "[keys]: {} is bound to both `{other}` and `{}`; give one of them another key",
                            k.name(),
                            a.name
                        ),
                    ));
                }
            }
        }
        Ok(map)
    }

    /// A chord to suggest for `action`: Alt and a letter of its name (else any letter) that
    /// line editing does not use and no action has yet.
    fn free_chord(&self, action: &str) -> Key {
        action
            .chars()
            .chain('a'..='z')
            .filter(char::is_ascii_lowercase)
            .map(Key::alt)
            .find(|k| taken_by_editing(*k).is_none() && self.lookup(*k).is_none())
            .unwrap_or(Key::f(12))
    }

    /// The keys of an action.
    pub fn keys(&self, action: &Action) -> &[Key] {
        self.keys.get(action.name).map_or(&[], Vec::as_slice)
    }

    /// What a key does on a live dashboard.
    pub(crate) fn lookup(&self, key: Key) -> Option<Act> {
        ACTIONS
            .iter()
            .find(|a| self.keys(a).contains(&key))
            .and_then(|a| a.act)
    }

    /// The action of `act`, with the keys it has here.
    pub(crate) fn action_of(&self, act: Act) -> Option<(&'static Action, &[Key])> {
        ACTIONS
            .iter()
            .find(|a| a.act == Some(act))
            .map(|a| (a, self.keys(a)))
    }

    /// How the help names an action's keys: `F5 Ctrl-R`.
    pub fn label(&self, action: &Action) -> String {
        self.keys(action)
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The first key of `act`, named, for hints (`F8`); its `/command` when it has no key.
    pub fn hint(&self, act: Act) -> String {
        match self.action_of(act) {
            Some((_, [k, ..])) => k.name(),
            Some((a, [])) => format!("/{}", a.name),
            None => String::new(),
        }
    }

    /// The footer: (first key, `/command`) of the ranked actions that fit in `width` columns,
    /// help and quit always, then the lowest ranks first; shown in table order.
    pub fn footer(&self, width: usize) -> Vec<(String, String)> {
        let item = |a: &Action| {
            let key = self.keys(a).first().map(|k| k.name()).unwrap_or_default();
            (key, format!("/{}", a.name))
        };
        // As the footer draws it: ` F5 /reconnect `.
        let cost = |(k, c): &(String, String)| {
            k.chars().count() + c.chars().count() + if k.is_empty() { 2 } else { 3 }
        };
        let mut ranked: Vec<&Action> = ACTIONS.iter().filter(|a| a.rank.is_some()).collect();
        ranked.sort_by_key(|a| a.rank);
        let mut kept: Vec<&str> = Vec::new();
        let mut used = 0;
        for a in ranked {
            let c = cost(&item(a));
            if used + c > width && a.rank != Some(0) {
                // Help and quit were taken first (rank 0); what does not fit ends the list, so
                // a less important key never stands where a more important one did not fit.
                break;
            }
            used += c;
            kept.push(a.name);
        }
        // Table order, quit last: where a user's eye ends.
        let mut shown: Vec<&Action> = ACTIONS.iter().filter(|a| kept.contains(&a.name)).collect();
        shown.sort_by_key(|a| a.act == Some(Act::Quit));
        shown.into_iter().map(item).collect()
    }

    /// The commands whose name (or alias) starts with `prefix` (without `/`), in table order.
    pub fn completions(prefix: &str) -> Vec<&'static Action> {
        ACTIONS
            .iter()
            .filter(|a| {
                a.name.starts_with(prefix) || a.aliases.iter().any(|x| x.starts_with(prefix))
            })
            .collect()
    }

    #[cfg(test)]
    /// The table of actions, keys and commands in docs/dashboard.md (a test checks it holds this).
    pub(crate) fn markdown_table() -> String {
        let map = Keymap::default();
        let mut s = String::from("| action | key | chord | command |\n|---|---|---|---|\n");
        for a in ACTIONS {
            let keys = map.keys(a);
            let fkeys: Vec<String> = keys
                .iter()
                .filter(|k| !k.is_chord())
                .map(|k| format!("`{}`", k.name()))
                .collect();
            let chords: Vec<String> = keys
                .iter()
                .filter(|k| k.is_chord())
                .map(|k| format!("`{}`", k.name()))
                .collect();
            let cmd = if a.args.is_empty() {
                format!("`/{}`", a.name)
            } else {
                format!("`/{} {}`", a.name, a.args.replace('|', "\\|"))
            };
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                a.help.replace('|', "\\|"),
                if fkeys.is_empty() {
                    "—".into()
                } else {
                    fkeys.join(" ")
                },
                if chords.is_empty() {
                    "—".into()
                } else {
                    chords.join(" ")
                },
                cmd
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(action: &str, keys: &[&str]) -> KeyOverride {
        KeyOverride {
            action: action.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            line: 3,
        }
    }

    #[test]
    fn every_keyed_action_has_a_chord_and_no_key_is_typed_text() {
        let map = Keymap::default();
        for a in ACTIONS
            .iter()
            .filter(|a| a.act.is_some() && !a.keys.is_empty())
        {
            assert!(
                map.keys(a).iter().any(|k| k.is_chord()),
                "/{} has no Ctrl/Alt chord",
                a.name
            );
            for k in map.keys(a) {
                assert!(!k.is_text(), "{} of /{} is typed text", k.name(), a.name);
            }
        }
        Keymap::build(&[]).expect("the built-in keys are bound once each");
    }

    #[test]
    fn keys_can_be_changed_and_bad_ones_are_named() {
        let m = Keymap::build(&[o("reconnect", &["Ctrl-X", "F12"])]).unwrap();
        assert_eq!(m.lookup(Key::ctrl('x')), Some(Act::Reconnect));
        assert_eq!(m.lookup(Key::f(5)), None, "the old key is gone");
        let (line, e) = Keymap::build(&[o("reconect", &["F5"])]).unwrap_err();
        assert_eq!(line, 3);
        assert!(e.starts_with("[keys]: `reconect` is not an action"), "{e}");
        let err = |o| Keymap::build(&[o]).unwrap_err().1;
        let e = err(o("ping", &["Ctrl-W"]));
        assert!(e.contains("line editing uses it"), "{e}");
        // The chord suggested is one that can be bound: Alt-F is line editing's, Alt-I free.
        let e = err(o("find", &["Ctrl-F"]));
        assert!(e.ends_with("such as Alt-I"), "{e}");
        let e = err(o("ping", &["x"]));
        assert!(e.contains("typed as text"), "{e}");
        let e = err(o("ping", &["F5"]));
        assert!(
            e.contains("F5 is bound to both `ping` and `reconnect`"),
            "{e}"
        );
        let e = err(o("binary", &["F12"]));
        assert!(e.contains("has no key"), "{e}");
        let none = Keymap::build(&[o("record", &[])]).unwrap();
        assert_eq!(none.lookup(Key::f(6)), None);
        assert_eq!(none.hint(Act::Record), "/record");
    }

    #[test]
    fn the_footer_keeps_help_and_quit_at_any_width() {
        let m = Keymap::default();
        for width in [24, 40, 80, 120, 200] {
            let f = m.footer(width);
            let cmds: Vec<&str> = f.iter().map(|(_, c)| c.as_str()).collect();
            assert!(
                cmds.contains(&"/help") && cmds.contains(&"/quit"),
                "{width}: {cmds:?}"
            );
            let w: usize = f.iter().map(|(k, c)| k.len() + c.len() + 3).sum();
            assert!(w <= width.max(25), "{width}: {w}");
        }
        assert!(m.footer(80).iter().any(|(_, c)| c == "/reconnect"));
        assert_eq!(
            m.footer(200).len(),
            ACTIONS.iter().filter(|a| a.rank.is_some()).count()
        );
    }

    #[test]
    fn the_readme_and_the_sample_config_list_the_actions_of_the_table() {
        let readme = include_str!("../docs/dashboard.md");
        let table = readme
            .split("<!-- keys:begin -->\n")
            .nth(1)
            .and_then(|r| r.split("<!-- keys:end -->").next())
            .expect("docs/dashboard.md has the keys table between its markers");
        assert_eq!(
            table,
            Keymap::markdown_table(),
            "docs/dashboard.md's keys table is not the bindings table: paste Keymap::markdown_table()"
        );
        let sample = include_str!("../config.toml").replace("\n# ", " ");
        for a in ACTIONS.iter().filter(|a| a.act.is_some()) {
            assert!(
                sample.contains(&format!(" {},", a.name))
                    || sample.contains(&format!(" {}.", a.name)),
                "config.toml's [keys] section does not name `{}`",
                a.name
            );
        }
    }

    #[test]
    fn completions_find_commands_by_prefix() {
        let names = |p| {
            Keymap::completions(p)
                .iter()
                .map(|a| a.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("rec"), ["reconnect", "record"]);
        assert_eq!(names("fi"), ["filter", "find", "files"]);
        assert!(names("zz").is_empty());
        assert_eq!(names("key"), ["help"]);
    }
}
