//! Key bindings: one table per screen drives both what a key does and what the help lists,
//! so the two cannot drift apart.
//!
//! On a live dashboard the input line always has the keys: whatever is typed is a message,
//! so no binding there is a printable character (a test holds this). Commands are function
//! keys, a few control keys that line editing does not use, and `/commands`. A replay has
//! nothing to type into, and its keys are letters as well.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key does on an endpoint's dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Send the typed line; on an empty line, open the selected message.
    Submit,
    /// The previous line sent (history).
    HistoryOlder,
    /// The next line sent (history).
    HistoryNewer,
    /// Move one entry up (older); moving up pauses following.
    Up,
    /// Move one entry down.
    Down,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// The oldest entry.
    Oldest,
    /// The newest entry, and follow again.
    Newest,
    /// Open the entry in full.
    Detail,
    /// Find a text (or, with one found, the next older hit).
    Find,
    /// Find a new text (the prompt, even with a search active).
    FindNew,
    /// The next older search hit.
    OlderHit,
    /// The next newer search hit.
    NewerHit,
    /// Show only the entries containing a text.
    Grep,
    /// Cycle the filter by kind.
    Filter,
    /// Show or hide the heartbeat's pings and pongs in the log.
    Pings,
    /// The last failure in full.
    LastFailure,
    /// Clear the search, follow again (and in a fleet, go back to the overview).
    Back,
    /// Ping now.
    Ping,
    /// Reconnect now.
    Reconnect,
    /// Start or stop recording.
    Record,
    /// Write the diagnostic report.
    Report,
    /// Pause or resume a replay.
    Pause,
    /// Replay faster.
    Faster,
    /// Replay slower.
    Slower,
    /// Replay one event.
    Step,
    /// The key help.
    Help,
    /// Quit (asking first when something would be lost).
    Quit,
}

/// What a key does on the fleet overview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetAct {
    /// Cursor up.
    Up,
    /// Cursor down.
    Down,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// The first row.
    First,
    /// The last row.
    Last,
    /// Open the endpoint's dashboard.
    Open,
    /// Cycle the sort order.
    Sort,
    /// Filter the rows.
    Filter,
    /// Clear the filter.
    ClearFilter,
    /// Ping the endpoint.
    Ping,
    /// Reconnect the endpoint.
    Reconnect,
    /// Say that recording and reports are per endpoint.
    PerEndpoint,
    /// The key help.
    Help,
    /// Quit (asking first when something would be lost).
    Quit,
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Always.
    Always,
    /// On a live connection (the input line has the keys).
    Live,
    /// In a replay.
    Replay,
    /// In an endpoint's dashboard opened from the fleet overview.
    InFleet,
    /// In the dashboard of a single endpoint (live or replayed).
    Alone,
}

/// A key with its modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl, Alt, Shift.
    pub mods: KeyModifiers,
}

impl Key {
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
        if matches!(ev.code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key {
            code: ev.code,
            mods,
        }
    }

    /// A character typed as text: no Ctrl, no Alt.
    pub fn is_text(self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    /// How the help and hints name it: `F3`, `Ctrl-G`, `Shift-↑`.
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
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                s.push(c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => s.push(c),
            KeyCode::F(n) => s.push_str(&format!("F{n}")),
            KeyCode::Up => s.push('↑'),
            KeyCode::Down => s.push('↓'),
            KeyCode::Left => s.push('←'),
            KeyCode::Right => s.push('→'),
            other => s.push_str(&format!("{other:?}")),
        }
        s
    }
}

const fn plain(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> Key {
    plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

const fn with(code: KeyCode, mods: KeyModifiers) -> Key {
    Key { code, mods }
}

const fn f(n: u8) -> Key {
    plain(KeyCode::F(n))
}

/// One line of the help and the keys it names: each key with what it does, and where.
#[derive(Clone, Copy, Debug)]
pub struct Binding<A: 'static> {
    /// The keys and what each does.
    pub keys: &'static [(Key, A)],
    /// The keys as the help shows them.
    pub label: &'static str,
    /// What they do, as the help says it.
    pub help: &'static str,
    /// Where.
    pub when: When,
}

const fn b<A>(
    keys: &'static [(Key, A)],
    label: &'static str,
    help: &'static str,
    when: When,
) -> Binding<A> {
    Binding {
        keys,
        label,
        help,
        when,
    }
}

use KeyCode::{Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};
use When::{Alone, Always, InFleet, Live, Replay};

const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const ALT: KeyModifiers = KeyModifiers::ALT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// The dashboard's keys, in the order the help lists them. For a key bound more than once,
/// the first binding that applies wins.
pub static DASHBOARD: &[Binding<Act>] = &[
    b(
        &[(plain(Enter), Act::Submit)],
        "Enter",
        "send the line (or run a /command); on an empty line, the selected message in full",
        Live,
    ),
    b(
        &[
            (plain(Up), Act::HistoryOlder),
            (plain(Down), Act::HistoryNewer),
        ],
        "↑ ↓",
        "lines sent before (history, kept across runs)",
        Live,
    ),
    b(
        &[
            (with(Up, SHIFT), Act::Up),
            (with(Up, ALT), Act::Up),
            (with(Up, CTRL), Act::Up),
            (with(Down, SHIFT), Act::Down),
            (with(Down, ALT), Act::Down),
            (with(Down, CTRL), Act::Down),
        ],
        "Shift-↑ Shift-↓",
        "select the previous / next message (also with Alt or Ctrl); pauses following",
        Live,
    ),
    b(
        &[
            (plain(Up), Act::Up),
            (ch('k'), Act::Up),
            (plain(Down), Act::Down),
            (ch('j'), Act::Down),
        ],
        "↑ ↓  k j",
        "move one message; moving up pauses following",
        Replay,
    ),
    b(
        &[(ch(' '), Act::Pause)],
        "Space",
        "pause or resume the replay",
        Replay,
    ),
    b(
        &[
            (plain(PageUp), Act::PageUp),
            (plain(PageDown), Act::PageDown),
        ],
        "PgUp PgDn  wheel",
        "scroll a page / three rows",
        Always,
    ),
    b(
        &[
            (with(Home, CTRL), Act::Oldest),
            (with(End, CTRL), Act::Newest),
        ],
        "Ctrl-Home Ctrl-End",
        "oldest message; newest, and follow again",
        Live,
    ),
    b(
        &[
            (plain(Home), Act::Oldest),
            (ch('g'), Act::Oldest),
            (plain(End), Act::Newest),
            (ch('G'), Act::Newest),
        ],
        "Home g  End G",
        "oldest message; newest, and follow again",
        Replay,
    ),
    b(
        &[(plain(Enter), Act::Detail)],
        "Enter",
        "the selected message in full: JSON pretty-printed, hex for binary, wrapped text",
        Replay,
    ),
    b(
        &[
            (f(3), Act::Find),
            (with(KeyCode::F(3), SHIFT), Act::NewerHit),
        ],
        "F3  Shift-F3",
        "find a text (highlighted); again: the next older hit; Shift: the next newer",
        Always,
    ),
    b(
        &[
            (ch('/'), Act::FindNew),
            (ch('n'), Act::OlderHit),
            (ch('N'), Act::NewerHit),
        ],
        "/  n  N",
        "find; next older hit; next newer hit",
        Replay,
    ),
    b(
        &[(ctrl('g'), Act::Grep)],
        "Ctrl-G",
        "show only the messages that contain a text (the log's title counts them)",
        Always,
    ),
    b(
        &[(f(2), Act::Filter)],
        "F2",
        "show all, received only, sent only, connection events only",
        Always,
    ),
    b(&[(ch('f'), Act::Filter)], "f", "the same as F2", Replay),
    b(
        &[(f(9), Act::Pings)],
        "F9",
        "show or hide the heartbeat's pings and pongs in the log",
        Always,
    ),
    b(
        &[(f(8), Act::LastFailure)],
        "F8",
        "the last failure in full (HTTP status, headers, body)",
        Always,
    ),
    b(
        &[(plain(Esc), Act::Back)],
        "Esc",
        "clear the search and the text filter, follow again, then back to the overview",
        InFleet,
    ),
    b(
        &[(plain(Esc), Act::Back)],
        "Esc",
        "clear the search and the text filter, follow again",
        Alone,
    ),
    b(
        &[(f(4), Act::Ping), (f(5), Act::Reconnect)],
        "F4  F5",
        "ping now (an RTT sample, its pong in the log); reconnect now",
        Live,
    ),
    b(
        &[(f(6), Act::Record), (f(7), Act::Report)],
        "F6  F7",
        "record to a file (again: stop); write the diagnostic report",
        Live,
    ),
    b(
        &[(f(7), Act::Report), (ch('d'), Act::Report)],
        "F7  d",
        "write the diagnostic report of what was replayed so far",
        Replay,
    ),
    b(
        &[
            (ch('+'), Act::Faster),
            (ch('='), Act::Faster),
            (ch('-'), Act::Slower),
            (ch('.'), Act::Step),
        ],
        "+ - .",
        "replay faster, slower, one event (pauses)",
        Replay,
    ),
    b(
        &[
            (f(1), Act::Help),
            (f(10), Act::Quit),
            (ctrl('c'), Act::Quit),
        ],
        "F1  F10 Ctrl-C",
        "this help; quit (asks first when a recording or unsent messages would end)",
        Always,
    ),
    b(
        &[(ch('?'), Act::Help), (ch('q'), Act::Quit)],
        "?  q",
        "this help; quit",
        Replay,
    ),
];

/// The fleet overview's keys, in the order the help lists them (nothing is typed there).
pub static OVERVIEW: &[Binding<FleetAct>] = &[
    b(
        &[
            (plain(Up), FleetAct::Up),
            (ch('k'), FleetAct::Up),
            (plain(Down), FleetAct::Down),
            (ch('j'), FleetAct::Down),
            (plain(PageUp), FleetAct::PageUp),
            (plain(PageDown), FleetAct::PageDown),
            (ch(' '), FleetAct::PageDown),
            (plain(Home), FleetAct::First),
            (ch('g'), FleetAct::First),
            (plain(End), FleetAct::Last),
            (ch('G'), FleetAct::Last),
        ],
        "↑ ↓  k j",
        "move the cursor; PgUp PgDn Home End jump",
        Always,
    ),
    b(
        &[
            (plain(Enter), FleetAct::Open),
            (plain(Tab), FleetAct::Open),
            (ch('i'), FleetAct::Open),
        ],
        "Enter",
        "open the endpoint's dashboard, to watch it or type to it (Esc comes back)",
        Always,
    ),
    b(
        &[(ch('s'), FleetAct::Sort)],
        "s",
        "sort: problems first, name, availability, RTT p50, reconnects",
        Always,
    ),
    b(
        &[
            (ch('/'), FleetAct::Filter),
            (plain(Esc), FleetAct::ClearFilter),
        ],
        "/  Esc",
        "filter by name or URL (Enter keeps it); Esc clears it",
        Always,
    ),
    b(
        &[
            (ch('p'), FleetAct::Ping),
            (f(4), FleetAct::Ping),
            (ch('R'), FleetAct::Reconnect),
            (f(5), FleetAct::Reconnect),
        ],
        "p  R",
        "ping the endpoint now; reconnect it now",
        Always,
    ),
    b(
        &[
            (ch('r'), FleetAct::PerEndpoint),
            (ch('d'), FleetAct::PerEndpoint),
        ],
        "r  d",
        "in an endpoint's dashboard: record it; write its report",
        Always,
    ),
    b(
        &[
            (ch('?'), FleetAct::Help),
            (f(1), FleetAct::Help),
            (ch('q'), FleetAct::Quit),
            (f(10), FleetAct::Quit),
            (ctrl('c'), FleetAct::Quit),
        ],
        "?  q  Ctrl-C",
        "this help; quit (asks first when a recording or unsent messages would end)",
        Always,
    ),
];

/// Whether a binding applies: live or a replay, in a fleet or alone.
fn applies(when: When, replay: bool, in_fleet: bool) -> bool {
    match when {
        Always => true,
        Live => !replay,
        Replay => replay,
        InFleet => in_fleet,
        Alone => !in_fleet,
    }
}

/// What `key` does here, if anything: the first binding that applies and has it.
pub fn lookup<A: Copy>(
    table: &'static [Binding<A>],
    key: Key,
    replay: bool,
    in_fleet: bool,
) -> Option<A> {
    table
        .iter()
        .filter(|b| applies(b.when, replay, in_fleet))
        .find_map(|b| b.keys.iter().find(|(k, _)| *k == key).map(|(_, a)| *a))
}

/// The help lines that apply here, in table order.
pub fn help<A>(
    table: &'static [Binding<A>],
    replay: bool,
    in_fleet: bool,
) -> Vec<(&'static str, &'static str)> {
    table
        .iter()
        .filter(|b| applies(b.when, replay, in_fleet))
        .map(|b| (b.label, b.help))
        .collect()
}

/// What `key` does on the dashboard in some other situation (a live key in a replay).
pub fn elsewhere(key: Key) -> Option<&'static str> {
    DASHBOARD
        .iter()
        .find(|b| b.keys.iter().any(|(k, _)| *k == key))
        .map(|b| b.help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_typed_on_a_live_dashboard_is_a_command() {
        for b in DASHBOARD
            .iter()
            .filter(|b| applies(b.when, false, false) || applies(b.when, false, true))
        {
            for (k, a) in b.keys {
                assert!(
                    !k.is_text(),
                    "{} ({a:?}) would fire while a message is typed",
                    k.name()
                );
            }
        }
    }

    #[test]
    fn keys_do_what_the_help_says_here() {
        let live = |k| lookup(DASHBOARD, k, false, false);
        let replay = |k| lookup(DASHBOARD, k, true, false);
        assert_eq!(live(f(4)), Some(Act::Ping));
        assert_eq!(live(f(5)), Some(Act::Reconnect));
        assert_eq!(live(f(6)), Some(Act::Record));
        assert_eq!(live(plain(Up)), Some(Act::HistoryOlder));
        assert_eq!(live(with(Up, SHIFT)), Some(Act::Up));
        assert_eq!(live(ch('q')), None, "q is a letter of a message");
        assert_eq!(live(ctrl('c')), Some(Act::Quit));
        assert_eq!(replay(ch(' ')), Some(Act::Pause));
        assert_eq!(replay(plain(Up)), Some(Act::Up));
        assert_eq!(replay(ch('d')), Some(Act::Report));
        assert_eq!(replay(f(4)), None);
        assert_eq!(replay(ch('q')), Some(Act::Quit));
        assert_eq!(lookup(DASHBOARD, plain(Esc), false, true), Some(Act::Back));
        assert_eq!(
            lookup(OVERVIEW, ch(' '), false, true),
            Some(FleetAct::PageDown)
        );
        assert_eq!(
            lookup(OVERVIEW, ch('R'), false, true),
            Some(FleetAct::Reconnect)
        );
    }

    #[test]
    fn a_key_event_is_matched_with_its_modifiers() {
        use ratatui::crossterm::event::KeyEvent;
        let shifted_n = KeyEvent::new(KeyCode::Char('N'), KeyModifiers::SHIFT);
        assert_eq!(Key::of(&shifted_n), ch('N'));
        let meta_up = KeyEvent::new(Up, KeyModifiers::META);
        assert_eq!(Key::of(&meta_up), with(Up, ALT));
        assert_eq!(with(KeyCode::F(3), SHIFT).name(), "Shift-F3");
        assert_eq!(ctrl('g').name(), "Ctrl-G");
    }

    #[test]
    fn the_help_lists_only_what_applies() {
        let live = help(DASHBOARD, false, false);
        let replay = help(DASHBOARD, true, false);
        let fleet = help(DASHBOARD, false, true);
        let has = |h: &[(&str, &str)], label: &str| h.iter().any(|(l, _)| *l == label);
        assert!(has(&live, "F4  F5") && !has(&replay, "F4  F5"));
        assert!(has(&replay, "Space") && !has(&live, "Space"));
        assert!(live.iter().all(|(_, what)| !what.contains("overview")));
        assert!(fleet.iter().any(|(_, what)| what.contains("overview")));
        assert_eq!(fleet.iter().filter(|(l, _)| *l == "Esc").count(), 1);
    }
}
