//! A key with its modifiers: matched against key events, named for the help, parsed from the
//! config's `[keys]` table.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key with its modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl, Alt, Shift.
    pub mods: KeyModifiers,
}

const NAMED: [(&str, KeyCode); 16] = [
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PgUp", KeyCode::PageUp),
    ("PgDn", KeyCode::PageDown),
    ("↑", KeyCode::Up),
    ("↓", KeyCode::Down),
    ("←", KeyCode::Left),
    ("→", KeyCode::Right),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Left", KeyCode::Left),
    ("Right", KeyCode::Right),
    ("Enter", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Tab", KeyCode::Tab),
    ("Space", KeyCode::Char(' ')),
];

impl Key {
    /// A key without modifiers.
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    /// A key with these modifiers.
    pub const fn with(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }

    /// A character typed as it is.
    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    /// Ctrl and a letter.
    pub const fn ctrl(c: char) -> Key {
        Key::with(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    /// Alt (Meta, Option) and a character.
    pub const fn alt(c: char) -> Key {
        Key::with(KeyCode::Char(c), KeyModifiers::ALT)
    }

    /// Function key `n`.
    pub const fn f(n: u8) -> Key {
        Key::plain(KeyCode::F(n))
    }

    /// The key of a key event. Shift is part of a character already (`N`), so it is dropped
    /// there; Alt and Meta are one modifier to a user.
    pub fn of(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers
            & (KeyModifiers::CONTROL
                | KeyModifiers::ALT
                | KeyModifiers::SHIFT
                | KeyModifiers::META);
        if mods.contains(KeyModifiers::META) {
            mods.remove(KeyModifiers::META);
            mods.insert(KeyModifiers::ALT);
        }
        let code = match ev.code {
            // Ctrl-letters arrive lower case; Shift makes no other key of them.
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        if matches!(code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key { code, mods }
    }

    /// A character typed as text: no Ctrl, no Alt.
    pub fn is_text(self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    #[cfg(test)]
    /// A function key, without modifiers or with them.
    pub(crate) fn is_function(self) -> bool {
        matches!(self.code, KeyCode::F(_))
    }

    #[cfg(test)]
    /// A Ctrl or Alt chord (what works where function keys do not).
    pub(crate) fn is_chord(self) -> bool {
        !self.is_function()
            && self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// How the help, the footer and the config name it: `F3`, `Ctrl-G`, `Shift-↑`, `Alt-<`.
    pub fn name(self) -> String {
        let mut s = String::new();
        for (m, word) in [
            (KeyModifiers::CONTROL, "Ctrl-"),
            (KeyModifiers::ALT, "Alt-"),
            (KeyModifiers::SHIFT, "Shift-"),
        ] {
            if self.mods.contains(m) {
                s.push_str(word);
            }
        }
        match self.code {
            KeyCode::Char(' ') => s.push_str("Space"),
            KeyCode::Char(c) if self.mods.is_empty() => s.push(c),
            // Alt-Shift-P arrives as Alt and `P`.
            KeyCode::Char(c) if c.is_ascii_uppercase() => {
                s.push_str("Shift-");
                s.push(c)
            }
            KeyCode::Char(c) => s.push(c.to_ascii_uppercase()),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            code => match NAMED.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => s.push_str(name),
                None => s.push_str(&format!("{code:?}")),
            },
        }
        s
    }

    /// Reads a key as the config writes it: `F5`, `Ctrl-R`, `Alt-<`, `Shift-F3`, `Ctrl-Home`.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("meta-") {
                (KeyModifiers::ALT, 5)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break;
            }
            mods.insert(m);
            rest = &rest[len..];
        }
        let code = if let Some(n) = rest
            .strip_prefix(['F', 'f'])
            .and_then(|n| n.parse::<u8>().ok())
        {
            if !(1..=12).contains(&n) {
                return Err(format!("`{text}`: function keys are F1 to F12"));
            }
            KeyCode::F(n)
        } else if let Some((_, code)) = NAMED.iter().find(|(n, _)| n.eq_ignore_ascii_case(rest)) {
            *code
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                // A chord's letter is the key, not a case: Alt-P is Alt and `p`; Alt-Shift-P
                // is Alt and `P` (Ctrl has no shifted letters on a terminal).
                (Some(c), None)
                    if mods.contains(KeyModifiers::ALT)
                        && mods.contains(KeyModifiers::SHIFT)
                        && !mods.contains(KeyModifiers::CONTROL) =>
                {
                    KeyCode::Char(c.to_ascii_uppercase())
                }
                (Some(c), None) if mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                    KeyCode::Char(c.to_ascii_lowercase())
                }
                (Some(c), None) => KeyCode::Char(c),
                _ => {
                    return Err(format!(
                        "`{text}` is not a key: write F1-F12, or Ctrl-, Alt- or Shift- and a letter or a key name (Home, End, PgUp, PgDn, Up, Down, Left, Right), e.g. \"Ctrl-R\""
                    ));
                }
            }
        };
        let mut key = Key { code, mods };
        if matches!(code, KeyCode::Char(_)) {
            key.mods.remove(KeyModifiers::SHIFT);
        }
        Ok(key)
    }
}

/// The chords line editing owns (tui-input and readline habits), and keys that are the same
/// byte as another key on a terminal: bound, they would take a key from typing.
pub fn taken_by_editing(key: Key) -> Option<&'static str> {
    let ctrl = key.mods == KeyModifiers::CONTROL;
    let alt = key.mods == KeyModifiers::ALT;
    match key.code {
        KeyCode::Char(c) if ctrl && "hbfuwkyae".contains(c) => Some("line editing uses it"),
        KeyCode::Char(c) if ctrl && "imj[".contains(c) => {
            Some("a terminal sends it as Tab, Enter or Esc")
        }
        KeyCode::Char(c) if ctrl && "nt".contains(c) => {
            Some("browser SSH consoles keep it (new window, new tab)")
        }
        KeyCode::Char(c) if alt && "bfd".contains(c) => Some("line editing uses it"),
        _ if key.is_text() => Some("it is typed as text"),
        KeyCode::Enter
        | KeyCode::Tab
        | KeyCode::Esc
        | KeyCode::Backspace
        | KeyCode::Delete
        | KeyCode::Left
        | KeyCode::Right
        | KeyCode::Home
        | KeyCode::End
        | KeyCode::Up
        | KeyCode::Down
            if key.mods.is_empty() =>
        {
            Some("the input line and the log use it")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_from_their_names() {
        for k in [
            Key::f(5),
            Key::ctrl('r'),
            Key::alt('<'),
            Key::with(KeyCode::F(3), KeyModifiers::SHIFT),
            Key::with(KeyCode::Home, KeyModifiers::CONTROL),
            Key::with(KeyCode::Up, KeyModifiers::ALT),
        ] {
            assert_eq!(Key::parse(&k.name()), Ok(k), "{}", k.name());
        }
        assert_eq!(Key::parse("ctrl-R"), Ok(Key::ctrl('r')));
        assert_eq!(Key::parse("Alt-P"), Ok(Key::alt('p')));
        assert_eq!(Key::parse("Alt-Shift-P"), Ok(Key::alt('P')));
        assert_eq!(Key::alt('P').name(), "Alt-Shift-P");
        assert_eq!(Key::parse("F12"), Ok(Key::f(12)));
        assert!(Key::parse("F13").unwrap_err().contains("F1 to F12"));
        assert!(Key::parse("Hyper-X").unwrap_err().contains("is not a key"));
    }

    #[test]
    fn a_key_event_is_matched_with_its_modifiers() {
        let shifted_n = KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT);
        assert_eq!(Key::of(&shifted_n), Key::ch('N'));
        let meta_up = KeyEvent::new(KeyCode::Up, KeyModifiers::META);
        assert_eq!(Key::of(&meta_up), Key::with(KeyCode::Up, KeyModifiers::ALT));
        let alt_lt = KeyEvent::new(KeyCode::Char('<'), KeyModifiers::ALT | KeyModifiers::SHIFT);
        assert_eq!(Key::of(&alt_lt), Key::alt('<'));
        assert_eq!(
            Key::with(KeyCode::F(3), KeyModifiers::SHIFT).name(),
            "Shift-F3"
        );
        assert_eq!(Key::ctrl('g').name(), "Ctrl-G");
    }

    #[test]
    fn chords_that_editing_owns_are_named() {
        assert!(taken_by_editing(Key::ctrl('w')).is_some());
        assert!(taken_by_editing(Key::ch('x')).is_some());
        assert!(taken_by_editing(Key::plain(KeyCode::Enter)).is_some());
        assert_eq!(taken_by_editing(Key::ctrl('r')), None);
        assert_eq!(taken_by_editing(Key::alt('k')), None);
        assert_eq!(taken_by_editing(Key::f(5)), None);
    }
}
