//! Key bindings: one table per screen drives both what a key does and what the help lists,
//! so the two cannot drift apart.
//!
//! On a live dashboard the input line always has the keys: whatever is typed is a message,
//! so no binding there is a printable character (a test holds this). Commands are function
//! keys, a few control keys that line editing does not use, and `/commands`. A replay has
//! nothing to type into, and its keys are letters as well.

use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use crate::keymap::{ACTIONS, Keymap};

pub use crate::keymap::{Act, Key};

/// What a key does on the fleet overview.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FleetAct {
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

/// The dashboard's keys that are not actions of their own (typing, history, selecting) and a
/// replay's letters, in the order the help lists them; the actions' keys are the keymap's
/// (`crate::keymap`). For a key bound more than once, the first binding that applies wins.
pub(crate) static DASHBOARD: &[Binding<Act>] = &[
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
        &[(plain(Tab), Act::Complete)],
        "Tab",
        "after /: complete the command",
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
            (ch('/'), Act::FindNew),
            (ch('n'), Act::OlderHit),
            (ch('N'), Act::NewerHit),
        ],
        "/  n  N",
        "find; next older hit; next newer hit",
        Replay,
    ),
    b(
        &[(ch('f'), Act::Filter)],
        "f",
        "the next filter (all, received, sent, events)",
        Replay,
    ),
    b(
        &[(ch('d'), Act::Report)],
        "d",
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
        &[(ch('?'), Act::Help), (ch('q'), Act::Quit)],
        "?  q",
        "this help; quit",
        Replay,
    ),
    b(
        &[(plain(Esc), Act::Back)],
        "Esc",
        "back to the live view: no search, no text filter, following; again: the overview",
        InFleet,
    ),
    b(
        &[(plain(Esc), Act::Back)],
        "Esc",
        "back to the live view: no search, no text filter, following the newest",
        Alone,
    ),
];

/// Actions that need a live connection: in a replay their keys say so and do nothing.
pub(crate) fn live_only(act: Act) -> bool {
    matches!(
        act,
        Act::Ping | Act::Reconnect | Act::Record | Act::AutoReplies | Act::Clear
    )
}

/// What `key` does on an endpoint's dashboard: the fixed keys first, then the keymap's.
pub fn dashboard(keymap: &Keymap, key: Key, replay: bool, in_fleet: bool) -> Option<Act> {
    lookup(DASHBOARD, key, replay, in_fleet)
        .or_else(|| keymap.lookup(key).filter(|a| !(replay && live_only(*a))))
}

/// The help's rows for the keymap's actions here: keys, then `/command: what it does`
/// (a replay has no input line, so its rows name keys alone).
pub(crate) fn action_help(keymap: &Keymap, replay: bool) -> Vec<(String, String)> {
    ACTIONS
        .iter()
        .filter(|a| !(replay && (a.act.is_none_or(live_only) || keymap.keys(a).is_empty())))
        .map(|a| {
            let cmd = match (replay, a.args) {
                (true, _) => String::new(),
                (false, "") => format!("/{}: ", a.name),
                (false, args) => format!("/{} {args}: ", a.name),
            };
            (keymap.label(a), format!("{cmd}{}", a.help))
        })
        .collect()
}

/// The fleet overview's keys, in the order the help lists them (nothing is typed there).
pub(crate) static OVERVIEW: &[Binding<FleetAct>] = &[
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
        "F6  F7",
        "in an endpoint's dashboard (Enter): F6 or /record records it; F7 or /report writes its report",
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
pub(crate) fn lookup<A: Copy>(
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

/// What a live key would do, said in a replay where it does nothing.
pub(crate) fn elsewhere(keymap: &Keymap, key: Key) -> Option<&'static str> {
    ACTIONS
        .iter()
        .find(|a| keymap.keys(a).contains(&key) && a.act.is_some_and(live_only))
        .map(|a| a.help)
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
        let map = Keymap::default();
        let live = |k| dashboard(&map, k, false, false);
        let replay = |k| dashboard(&map, k, true, false);
        assert_eq!(live(f(4)), Some(Act::Ping));
        assert_eq!(live(ctrl('p')), Some(Act::Ping));
        assert_eq!(live(f(5)), Some(Act::Reconnect));
        assert_eq!(live(ctrl('r')), Some(Act::Reconnect));
        assert_eq!(live(f(6)), Some(Act::Record));
        assert_eq!(live(plain(Up)), Some(Act::HistoryOlder));
        assert_eq!(live(with(Up, SHIFT)), Some(Act::Up));
        assert_eq!(live(ch('q')), None, "q is a letter of a message");
        assert_eq!(live(ctrl('c')), Some(Act::Quit));
        assert_eq!(replay(ch(' ')), Some(Act::Pause));
        assert_eq!(replay(plain(Up)), Some(Act::Up));
        assert_eq!(replay(ch('d')), Some(Act::Report));
        assert_eq!(replay(f(4)), None);
        assert_eq!(replay(f(8)), Some(Act::LastFailure));
        assert_eq!(replay(ch('q')), Some(Act::Quit));
        assert!(elsewhere(&map, f(5)).is_some());
        assert_eq!(dashboard(&map, plain(Esc), false, true), Some(Act::Back));
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
    fn the_help_lists_only_what_applies() {
        let map = Keymap::default();
        let live = help(DASHBOARD, false, false);
        let replay = help(DASHBOARD, true, false);
        let fleet = help(DASHBOARD, false, true);
        let has = |h: &[(&str, &str)], label: &str| h.iter().any(|(l, _)| *l == label);
        assert!(has(&replay, "Space") && !has(&live, "Space"));
        assert!(live.iter().all(|(_, what)| !what.contains("overview")));
        assert!(fleet.iter().any(|(_, what)| what.contains("overview")));
        assert_eq!(fleet.iter().filter(|(l, _)| *l == "Esc").count(), 1);
        let acts = action_help(&map, false);
        assert!(
            acts.iter()
                .any(|(k, w)| k == "F5 Ctrl-R" && w.starts_with("/reconnect: "))
        );
        let replayed = action_help(&map, true);
        assert!(replayed.iter().all(|(k, _)| !k.contains("F5")));
        assert!(replayed.iter().any(|(k, _)| k.contains("F8")));
    }
}
