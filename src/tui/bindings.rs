//! Key bindings: one table per screen drives both what a key does and what the help lists,
//! so the two cannot drift apart.

use ratatui::crossterm::event::KeyCode;

/// What a key does on an endpoint's dashboard (the log has the keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
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
    /// Search.
    Search,
    /// The next older search hit.
    OlderHit,
    /// The next newer search hit.
    NewerHit,
    /// Cycle the filter.
    Filter,
    /// Clear the search, follow again (and in a fleet, go back to the overview).
    Back,
    /// Ping now.
    Ping,
    /// Reconnect now.
    Reconnect,
    /// Type a message.
    Type,
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
    /// Quit.
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
    /// Open it and type a message to it.
    OpenAndType,
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
    /// Quit.
    Quit,
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Always.
    Always,
    /// On a live connection.
    Live,
    /// In a replay.
    Replay,
    /// In an endpoint's dashboard opened from the fleet overview.
    InFleet,
    /// In the dashboard of a single endpoint (live or replayed).
    Alone,
}

/// One line of the help and the keys it names: each key with what it does, and where.
#[derive(Clone, Copy, Debug)]
pub struct Binding<A: 'static> {
    /// The keys and what each does.
    pub keys: &'static [(KeyCode, A)],
    /// The keys as the help shows them.
    pub label: &'static str,
    /// What they do, as the help says it.
    pub help: &'static str,
    /// Where.
    pub when: When,
}

const fn b<A>(
    keys: &'static [(KeyCode, A)],
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

use KeyCode::{Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};
use When::{Alone, Always, InFleet, Live, Replay};

/// The dashboard's keys (in the log), in the order the help lists them. For a key bound more
/// than once, the first binding that applies wins.
pub static DASHBOARD: &[Binding<Act>] = &[
    b(
        &[
            (Up, Act::Up),
            (Char('k'), Act::Up),
            (Down, Act::Down),
            (Char('j'), Act::Down),
        ],
        "↑ ↓  k j",
        "move one message; moving up pauses following",
        Always,
    ),
    b(
        &[(Char(' '), Act::Pause)],
        "Space",
        "pause or resume the replay",
        Replay,
    ),
    b(
        &[
            (PageUp, Act::PageUp),
            (PageDown, Act::PageDown),
            (Char(' '), Act::PageDown),
        ],
        "PgUp PgDn  wheel",
        "move a page / three rows",
        Always,
    ),
    b(
        &[(Home, Act::Oldest), (Char('g'), Act::Oldest)],
        "Home g",
        "oldest message",
        Always,
    ),
    b(
        &[(End, Act::Newest), (Char('G'), Act::Newest)],
        "End G",
        "newest message, and follow again",
        Always,
    ),
    b(
        &[(Enter, Act::Detail)],
        "Enter",
        "detail: JSON pretty-printed, hex for binary, wrapped text",
        Always,
    ),
    b(
        &[
            (Char('/'), Act::Search),
            (Char('n'), Act::OlderHit),
            (Char('N'), Act::NewerHit),
        ],
        "/  n  N",
        "search; next older hit; next newer hit",
        Always,
    ),
    b(
        &[(Char('f'), Act::Filter)],
        "f",
        "filter: all, in only, out only, events only",
        Always,
    ),
    b(
        &[(Esc, Act::Back)],
        "Esc",
        "clear the search, follow again, then back to the overview",
        InFleet,
    ),
    b(
        &[(Esc, Act::Back)],
        "Esc",
        "clear the search, follow again",
        Alone,
    ),
    b(
        &[(Char('p'), Act::Ping), (Char('R'), Act::Reconnect)],
        "p  R",
        "ping now (an RTT sample); reconnect now",
        Live,
    ),
    b(
        &[(Tab, Act::Type), (Char('i'), Act::Type)],
        "Tab  i",
        "type a message: Enter sends, Esc leaves, ↑↓ history",
        Live,
    ),
    b(
        &[(Char('r'), Act::Record), (Char('d'), Act::Report)],
        "r  d",
        "record to a file (again: stop); write the diagnostic report",
        Live,
    ),
    b(
        &[(Char('d'), Act::Report)],
        "d",
        "write the diagnostic report of what was replayed so far",
        Replay,
    ),
    b(
        &[
            (Char('+'), Act::Faster),
            (Char('='), Act::Faster),
            (Char('-'), Act::Slower),
            (Char('.'), Act::Step),
        ],
        "+ - .",
        "replay faster, slower, one event (pauses)",
        Replay,
    ),
    b(
        &[(Char('?'), Act::Help), (Char('q'), Act::Quit)],
        "?  q  Ctrl-C",
        "this help; quit",
        Always,
    ),
];

/// The fleet overview's keys, in the order the help lists them.
pub static OVERVIEW: &[Binding<FleetAct>] = &[
    b(
        &[
            (Up, FleetAct::Up),
            (Char('k'), FleetAct::Up),
            (Down, FleetAct::Down),
            (Char('j'), FleetAct::Down),
            (PageUp, FleetAct::PageUp),
            (PageDown, FleetAct::PageDown),
            (Char(' '), FleetAct::PageDown),
            (Home, FleetAct::First),
            (Char('g'), FleetAct::First),
            (End, FleetAct::Last),
            (Char('G'), FleetAct::Last),
        ],
        "↑ ↓  k j",
        "move the cursor; PgUp PgDn Home End jump",
        Always,
    ),
    b(
        &[(Enter, FleetAct::Open)],
        "Enter",
        "open the endpoint's dashboard (Esc comes back)",
        Always,
    ),
    b(
        &[
            (Tab, FleetAct::OpenAndType),
            (Char('i'), FleetAct::OpenAndType),
        ],
        "Tab  i",
        "open it and type a message to it",
        Always,
    ),
    b(
        &[(Char('s'), FleetAct::Sort)],
        "s",
        "sort: problems first, name, availability, RTT p50, reconnects",
        Always,
    ),
    b(
        &[(Char('/'), FleetAct::Filter), (Esc, FleetAct::ClearFilter)],
        "/  Esc",
        "filter by name or URL (Enter keeps it); Esc clears it",
        Always,
    ),
    b(
        &[
            (Char('p'), FleetAct::Ping),
            (Char('R'), FleetAct::Reconnect),
        ],
        "p  R",
        "ping the endpoint now; reconnect it now",
        Always,
    ),
    b(
        &[
            (Char('r'), FleetAct::PerEndpoint),
            (Char('d'), FleetAct::PerEndpoint),
        ],
        "r  d",
        "in an endpoint's dashboard: record it; write its report",
        Always,
    ),
    b(
        &[(Char('?'), FleetAct::Help), (Char('q'), FleetAct::Quit)],
        "?  q  Ctrl-C",
        "this help; quit",
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
    key: KeyCode,
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
pub fn elsewhere(key: KeyCode) -> Option<&'static str> {
    DASHBOARD
        .iter()
        .find(|b| b.keys.iter().any(|(k, _)| *k == key))
        .map(|b| b.help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_do_what_the_help_says_here() {
        assert_eq!(
            lookup(DASHBOARD, Char(' '), false, false),
            Some(Act::PageDown)
        );
        assert_eq!(lookup(DASHBOARD, Char(' '), true, false), Some(Act::Pause));
        assert_eq!(lookup(DASHBOARD, Char('p'), false, false), Some(Act::Ping));
        assert_eq!(
            lookup(DASHBOARD, Char('R'), false, false),
            Some(Act::Reconnect)
        );
        assert_eq!(
            lookup(DASHBOARD, Char('r'), false, false),
            Some(Act::Record)
        );
        assert_eq!(
            lookup(DASHBOARD, Char('d'), false, false),
            Some(Act::Report)
        );
        assert_eq!(lookup(DASHBOARD, Char('d'), true, false), Some(Act::Report));
        assert_eq!(lookup(DASHBOARD, Char('p'), true, false), None);
        assert_eq!(lookup(DASHBOARD, Char('q'), true, false), Some(Act::Quit));
        assert_eq!(lookup(DASHBOARD, Esc, false, true), Some(Act::Back));
        assert_eq!(
            lookup(OVERVIEW, Char(' '), false, true),
            Some(FleetAct::PageDown)
        );
        assert_eq!(
            lookup(OVERVIEW, Char('R'), false, true),
            Some(FleetAct::Reconnect)
        );
    }

    #[test]
    fn the_help_lists_only_what_applies() {
        let live = help(DASHBOARD, false, false);
        let replay = help(DASHBOARD, true, false);
        let fleet = help(DASHBOARD, false, true);
        let has = |h: &[(&str, &str)], label: &str| h.iter().any(|(l, _)| *l == label);
        assert!(has(&live, "p  R") && !has(&replay, "p  R"));
        assert!(has(&replay, "Space") && !has(&live, "Space"));
        assert!(live.iter().all(|(_, what)| !what.contains("overview")));
        assert!(fleet.iter().any(|(_, what)| what.contains("overview")));
        assert_eq!(fleet.iter().filter(|(l, _)| *l == "Esc").count(), 1);
    }
}
