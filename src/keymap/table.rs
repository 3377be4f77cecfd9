//! Every action of a live dashboard: its `/command`, its keys (a function key and a chord that
//! line editing does not use), where the footer ranks it, and what the help says of it. The
//! help, the footer, the `/` list, Tab completion, `[keys]` and docs/dashboard.md's table all read
//! this one table.

use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use super::Key;

/// What a key or a `/command` does on an endpoint's dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// Complete the `/command` being typed.
    Complete,
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
    /// Show or hide automatic replies in the log.
    AutoReplies,
    /// The last failure in full.
    LastFailure,
    /// The files written in this session.
    Files,
    /// Turn mouse capture off (text can be selected) or on (the wheel scrolls).
    Mouse,
    /// Copy the selected message.
    Copy,
    /// Empty the log view.
    Clear,
    /// Back to the live view: no search, no text filter, following (in a fleet, then the
    /// overview).
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

/// One action of a live dashboard.
#[derive(Clone, Copy, Debug)]
pub struct Action {
    /// The `/command` (without `/`) and the action's name in `[keys]`.
    pub name: &'static str,
    /// Other spellings of the command.
    pub aliases: &'static [&'static str],
    /// What the command takes, as the help writes it (`<text>`, `[code] [reason]`).
    pub args: &'static str,
    /// What it does with no arguments; `None`: it needs them (`/binary c0 ff`).
    pub act: Option<Act>,
    /// Its keys unless `[keys]` says otherwise: the function key first, then the chord.
    pub keys: &'static [Key],
    /// The footer keeps lower ranks first at narrow widths; `None`: not in the footer.
    pub rank: Option<u8>,
    /// What it does, as the help says it.
    pub help: &'static str,
}

const fn a(
    name: &'static str,
    args: &'static str,
    act: Option<Act>,
    keys: &'static [Key],
    rank: Option<u8>,
    help: &'static str,
) -> Action {
    Action {
        name,
        aliases: &[],
        args,
        act,
        keys,
        rank,
        help,
    }
}

const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// The live dashboard's actions, in the order the help lists them.
pub static ACTIONS: &[Action] = &[
    Action {
        aliases: &["keys", "?"],
        ..a(
            "help",
            "",
            Some(Act::Help),
            &[Key::f(1), Key::alt('h')],
            Some(0),
            "every key and command (this help)",
        )
    },
    Action {
        aliases: &["exit", "q"],
        ..a(
            "quit",
            "",
            Some(Act::Quit),
            &[Key::f(10), Key::ctrl('c')],
            Some(0),
            "quit (asks first when a recording or unsent messages would end)",
        )
    },
    a(
        "filter",
        "[in|out|events|all]",
        Some(Act::Filter),
        &[Key::f(2), Key::alt('v')],
        Some(6),
        "show all rows, received, sent or connection events only (no argument: the next)",
    ),
    Action {
        aliases: &["search"],
        ..a(
            "find",
            "<text>",
            Some(Act::Find),
            &[Key::f(3), Key::ctrl('s')],
            Some(5),
            "find a text in the log, highlighted; the key again: the next older hit",
        )
    },
    a(
        "next",
        "",
        Some(Act::OlderHit),
        &[Key::alt('n')],
        None,
        "the next older hit of the search",
    ),
    a(
        "prev",
        "",
        Some(Act::NewerHit),
        &[Key::with(KeyCode::F(3), SHIFT), Key::alt('p')],
        None,
        "the next newer hit of the search",
    ),
    a(
        "grep",
        "[text]",
        Some(Act::Grep),
        &[Key::ctrl('g')],
        None,
        "show only the rows that contain the text (no text: every row again)",
    ),
    a(
        "ping",
        "",
        Some(Act::Ping),
        &[Key::f(4), Key::ctrl('p')],
        Some(3),
        "ping now: an RTT sample, its pong in the log",
    ),
    a(
        "reconnect",
        "",
        Some(Act::Reconnect),
        &[Key::f(5), Key::ctrl('r')],
        Some(1),
        "drop the connection and dial now",
    ),
    a(
        "record",
        "",
        Some(Act::Record),
        &[Key::f(6), Key::ctrl('o')],
        Some(7),
        "record every event to a file (again: stop)",
    ),
    a(
        "report",
        "",
        Some(Act::Report),
        &[Key::f(7), Key::ctrl('d')],
        Some(8),
        "write the diagnostic report (Markdown and HTML)",
    ),
    a(
        "failure",
        "",
        Some(Act::LastFailure),
        &[Key::f(8), Key::ctrl('l')],
        Some(2),
        "the last failure in full: certificate chain, HTTP status, headers and body",
    ),
    a(
        "pings",
        "",
        Some(Act::Pings),
        &[Key::f(9), Key::alt('k')],
        Some(9),
        "show or hide the heartbeat's pings and pongs in the log, rows already there too",
    ),
    a(
        "autoreplies",
        "",
        Some(Act::AutoReplies),
        &[Key::alt('a')],
        None,
        "show or hide automatic replies in the log (the Traffic pane counts them)",
    ),
    a(
        "top",
        "",
        Some(Act::Oldest),
        &[Key::with(KeyCode::Home, CTRL), Key::alt('<')],
        None,
        "the oldest message (pauses following)",
    ),
    a(
        "bottom",
        "",
        Some(Act::Newest),
        &[Key::with(KeyCode::End, CTRL), Key::alt('>')],
        None,
        "the newest message, and follow again",
    ),
    a(
        "pageup",
        "",
        Some(Act::PageUp),
        &[Key::plain(KeyCode::PageUp), Key::alt('u')],
        None,
        "scroll the log a page up (the wheel: three rows)",
    ),
    a(
        "pagedown",
        "",
        Some(Act::PageDown),
        &[Key::plain(KeyCode::PageDown), Key::alt('j')],
        None,
        "scroll the log a page down",
    ),
    a(
        "files",
        "",
        Some(Act::Files),
        &[Key::alt('o')],
        None,
        "the files written in this session, with full paths",
    ),
    a(
        "copy",
        "",
        Some(Act::Copy),
        &[Key::alt('y')],
        None,
        "copy the selected message (OSC 52: works over SSH)",
    ),
    a(
        "mouse",
        "",
        Some(Act::Mouse),
        &[Key::alt('m')],
        None,
        "mouse off: the terminal selects text; on: the wheel scrolls the log",
    ),
    a(
        "clear",
        "",
        Some(Act::Clear),
        &[],
        None,
        "empty the message log (the counters stay)",
    ),
    a(
        "close",
        "[code] [reason]",
        None,
        &[],
        None,
        "close (1000 unless given) and stay closed until /reconnect",
    ),
    a(
        "binary",
        "<hex>",
        None,
        &[],
        None,
        "send a binary message: /binary c0 ff ee",
    ),
    a(
        "raw",
        "<text>",
        None,
        &[],
        None,
        "send as typed, past any preset (//x sends /x)",
    ),
    a(
        "broadcast",
        "<text>",
        None,
        &[],
        None,
        "send to every endpoint that is open now (a fleet)",
    ),
];

/// The action called `name` (or one of its aliases).
pub fn named(name: &str) -> Option<&'static Action> {
    ACTIONS
        .iter()
        .find(|a| a.name == name || a.aliases.contains(&name))
}
