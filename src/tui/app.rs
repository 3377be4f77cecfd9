//! Dashboard state and its transitions: engine events and keys in, engine commands out.
//! Nothing here touches the terminal or the socket, so it is tested as plain state.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tui_input::Input;

use super::input::History;
use super::log::{Entry, Filter, Level, MessageLog, Origin, contains_ignore_case};
mod actions;
mod detail;
mod fold;
mod keys;
mod options;

use crate::engine::{Command, Dir, Stamped};
use crate::model::ConnStats;
use crate::record::RecordStatus;
use crate::report::ReportBuilder;
use crate::text;
pub use detail::{DETAIL_MAX, Detail, detail_of};
pub use options::UiOptions;
pub(crate) use options::labels_text;

/// How long a status message stays in the footer.
const STATUS_FOR: Duration = Duration::from_secs(6);

/// A transient footer message: shown for a few seconds after it is said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notice(Option<(String, Level, SystemTime)>);

impl Notice {
    /// Shows `text` from `now` on.
    pub fn set(&mut self, level: Level, text: impl Into<String>, now: SystemTime) {
        self.0 = Some((text.into(), level, now + STATUS_FOR));
    }

    /// The message, if still current at `now`.
    pub fn current(&self, now: SystemTime) -> Option<(&str, Level)> {
        self.0
            .as_ref()
            .filter(|(_, _, until)| *until > now)
            .map(|(t, l, _)| (t.as_str(), *l))
    }
}

/// What a replay shows in the title and the footer.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayView {
    /// Speed factor (0 = as fast as possible).
    pub speed: f64,
    /// Paused.
    pub paused: bool,
    /// How far it has got.
    pub at: crate::replay::Position,
}

/// What a key asks of the loop around the app.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Tell the engine.
    Engine(Command),
    /// Tell every engine whose connection is open.
    Broadcast(Command),
    /// Start or stop recording.
    ToggleRecording,
    /// Write the diagnostic report.
    WriteReport,
    /// Pause or resume a replay.
    ReplayPause,
    /// Multiply the replay speed.
    ReplaySpeed(f64),
    /// Replay one event while paused.
    ReplayStep,
    /// Append a submitted line to the history file.
    AppendHistory(PathBuf, String),
    /// Write this to the terminal (an OSC 52 clipboard copy).
    Copy(String),
    /// Turn the terminal's mouse capture on or off.
    Mouse(bool),
}

/// A file written in this session, for `/files` and the exit summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedFile {
    /// Its full path.
    pub path: PathBuf,
    /// What it is.
    pub what: SavedKind,
}

/// What a written file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedKind {
    /// A recording; `parts` rotated parts (`FILE.1` ...) are kept beside it.
    Recording {
        /// Rotated parts kept.
        parts: usize,
    },
    /// A diagnostic report (Markdown, with its HTML page beside it).
    Report,
}

/// Where keys go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The log (a replay: there is nothing to type).
    Log,
    /// The input line: typing a message or a command (a live dashboard, always).
    Input,
    /// Typing a text to find.
    Find,
    /// Typing a text the shown rows must contain.
    Grep,
}

/// A view over the panes.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    /// Every key binding.
    Help,
    /// One entry in full.
    Detail(Detail),
    /// Quit? What it would end, in words.
    Quit(String),
}

/// A failure row of the log that later events rewrite: the same failure again (`×3`), the
/// retry that follows it.
#[derive(Clone, Debug)]
struct Collapse {
    seq: u64,
    /// The row's first line, as the failure said it.
    head: String,
    /// The detail below the first line (for the detail view).
    rest: String,
    times: u32,
    retry: Option<String>,
}

/// Messages and bytes per second, sampled each second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    /// Messages in per second.
    pub msgs_in: f64,
    /// Bytes in per second.
    pub bytes_in: f64,
    /// Messages out per second.
    pub msgs_out: f64,
    /// Bytes out per second.
    pub bytes_out: f64,
    last: Option<(SystemTime, [u64; 4])>,
}

impl Rates {
    /// Takes a sample of the counters at `now`.
    pub fn sample(&mut self, s: &ConnStats, now: SystemTime) {
        let counts = [s.msgs_in, s.bytes_in, s.msgs_out, s.bytes_out];
        if let Some((then, prev)) = self.last {
            let secs = now.duration_since(then).unwrap_or_default().as_secs_f64();
            if secs < 0.5 {
                return;
            }
            let rate = |i: usize| counts[i].saturating_sub(prev[i]) as f64 / secs;
            self.msgs_in = rate(0);
            self.bytes_in = rate(1);
            self.msgs_out = rate(2);
            self.bytes_out = rate(3);
        }
        self.last = Some((now, counts));
    }
}

/// The whole dashboard state.
pub struct App {
    /// Start options.
    pub opts: UiOptions,
    /// Connection numbers and the report's history, folded from events.
    pub report: ReportBuilder,
    /// The recorder's progress, while recording.
    pub recording: Option<RecordStatus>,
    /// Speed and pause of a replay.
    pub replay: Option<ReplayView>,
    /// The message log.
    pub log: MessageLog,
    /// Which entries are shown.
    pub filter: Filter,
    /// The selected entry; `None` follows the newest.
    pub selected: Option<u64>,
    /// First entry in the viewport while paused.
    pub view_top: u64,
    /// Entries added since following was paused.
    pub paused_new: u64,
    /// The active search.
    pub search: Option<String>,
    /// The text every shown row contains (`Ctrl-G`, `/grep`).
    pub grep: Option<String>,
    /// Heartbeat pings and pongs are shown in the log (`F9`).
    pub show_pings: bool,
    /// Automatic replies are shown in the log (`/autoreplies`).
    pub show_autoreplies: bool,
    /// The terminal reports the mouse (the wheel scrolls; text selection is the terminal's
    /// when off).
    pub mouse: bool,
    /// Files written in this session (recordings, reports).
    pub files: Vec<SavedFile>,
    /// A ping was asked for: its ping and pong go into the log.
    asked_ping: bool,
    /// Where keys go.
    pub focus: Focus,
    /// The message line.
    pub input: Input,
    /// The line of a find or text-filter prompt.
    pub search_input: Input,
    /// Submitted lines.
    pub history: History,
    /// A view over the panes.
    pub overlay: Option<Overlay>,
    /// First line of the help shown (it may not fit).
    pub help_scroll: usize,
    /// A transient footer message and its level.
    pub status: Notice,
    /// The clock the panes show.
    pub now: SystemTime,
    /// Traffic rates.
    pub rates: Rates,
    /// Persistent warnings (e.g. `--insecure`).
    pub warnings: Vec<String>,
    /// Queued outgoing messages: id to log sequence.
    pending: HashMap<u64, u64>,
    /// The newest failure row, which a retry and the same failure again rewrite.
    last_failure_row: Option<Collapse>,
    /// Queued messages sent in the batch being folded (one line says how many).
    sent_from_queue: u64,
    /// The newest auto-reply line and its words, which repeats rewrite with a count.
    last_auto_reply: Option<(u64, String, u64)>,
    /// The preset's events end with a recovery offset (Socket.IO), shown as such.
    pub offsets: bool,
    /// Rows in the log viewport at the last draw.
    pub log_rows: usize,
    /// Set when the user asked to quit.
    pub quit: bool,
}

impl App {
    /// A fresh dashboard.
    pub fn new(opts: UiOptions) -> App {
        let history = History::load(opts.history.clone());
        let mut log = MessageLog::new(opts.log_capacity, opts.log_max_bytes);
        log.set_hidden(super::log::Quiet::Heartbeat, true);
        log.set_hidden(super::log::Quiet::AutoReply, true);
        App {
            log,
            // One of a fleet keeps a small chart: thousands of them are drawn from memory.
            report: if opts.name.is_some() {
                ReportBuilder::without_messages(opts.header.clone()).small(64, 32)
            } else {
                ReportBuilder::without_messages(opts.header.clone())
            },
            recording: None,
            replay: None,
            filter: Filter::All,
            selected: None,
            view_top: 0,
            paused_new: 0,
            search: None,
            grep: None,
            show_pings: false,
            show_autoreplies: false,
            mouse: opts.mouse,
            files: Vec::new(),
            asked_ping: false,
            focus: if opts.replay {
                Focus::Log
            } else {
                Focus::Input
            },
            input: Input::default(),
            search_input: Input::default(),
            history,
            overlay: None,
            help_scroll: 0,
            status: Notice::default(),
            now: SystemTime::now(),
            rates: Rates::default(),
            warnings: Vec::new(),
            pending: HashMap::new(),
            last_auto_reply: None,
            offsets: false,
            sent_from_queue: 0,
            last_failure_row: None,
            log_rows: 10,
            quit: false,
            opts,
        }
    }

    /// Connection numbers, folded from events.
    pub fn stats(&self) -> &ConnStats {
        &self.report.stats
    }

    /// The diagnostic report as of now, in Markdown and as an HTML page; with `payloads`, the
    /// last messages from the log are in it.
    pub(crate) fn report_files(&self, payloads: bool) -> (String, String) {
        let mut tail: Vec<crate::report::TailMessage<'_>> = self
            .log
            .shown_before(self.log.end_seq(), Filter::All)
            .filter_map(|seq| self.log.get(seq))
            .filter(|e| e.origin != Origin::Event)
            .take(50)
            .map(|e| crate::report::TailMessage {
                at: e.at(),
                dir: if e.origin == Origin::In {
                    Dir::In
                } else {
                    Dir::Out
                },
                kind: e.kind,
                data: &e.data,
            })
            .collect();
        tail.reverse();
        let doc = self.report.document(
            self.now,
            if self.opts.replay {
                crate::report::Source::Replay
            } else {
                crate::report::Source::Live
            },
            payloads.then_some(&tail[..]),
        );
        (crate::report::markdown(&doc), crate::report::html(&doc))
    }

    /// Shows a transient message in the footer.
    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status.set(level, text, self.now);
    }

    /// The footer message, if still current.
    pub fn current_status(&self) -> Option<(&str, Level)> {
        self.status.current(self.now)
    }

    fn push(&mut self, e: Entry) -> u64 {
        if self.selected.is_some() {
            self.paused_new += 1;
        }
        self.log.push(e)
    }

    /// Folds a batch of engine events into the state.
    pub fn apply(&mut self, batch: &[Stamped]) {
        for s in batch {
            self.report.apply(s);
            self.log_event(s);
        }
        if self.sent_from_queue > 0
            && let Some(last) = batch.last()
        {
            let n = std::mem::take(&mut self.sent_from_queue);
            let still = self.stats().queued;
            let rest = if still > 0 {
                format!("; {} still waiting", still)
            } else {
                String::new()
            };
            self.push(Entry::event(
                last.at,
                Level::Good,
                format!(
                    "{} sent after the reconnect{rest}",
                    text::counted(n, "queued message", "queued messages")
                ),
            ));
        }
        // Evicted entries cannot stay selected.
        let first = self.log.first_seq();
        if let Some(sel) = self.selected
            && sel < first
        {
            self.selected = Some(first);
        }
        self.view_top = self.view_top.max(first);
    }

    /// Called about once a second: rates.
    pub fn tick(&mut self, now: SystemTime) {
        self.now = now;
        self.rates.sample(&self.report.stats, now);
    }

    // ---- the log viewport -------------------------------------------------------------------

    /// The newest shown entry.
    pub(crate) fn last_shown(&self) -> Option<u64> {
        self.log.prev(self.log.end_seq(), self.filter)
    }

    /// The entry the cursor is on: the selected one, or the newest when following.
    pub fn cursor(&self) -> Option<u64> {
        self.selected.or_else(|| self.last_shown())
    }

    /// Nothing open, asked, searched or filtered, and following: Esc has nothing left to
    /// undo here (a typed line stays; it is not lost by going back to a fleet).
    pub fn at_rest(&self) -> bool {
        self.overlay.is_none()
            && matches!(self.focus, Focus::Log | Focus::Input)
            && self.search.is_none()
            && self.grep.is_none()
            && self.following()
    }

    /// Whether the log follows new entries.
    pub fn following(&self) -> bool {
        self.selected.is_none()
    }

    pub(super) fn follow(&mut self) {
        self.selected = None;
        self.paused_new = 0;
    }

    pub(super) fn select(&mut self, seq: Option<u64>) {
        if let Some(seq) = seq {
            if self.selected.is_none() {
                self.paused_new = 0;
            }
            self.selected = Some(seq);
        }
    }

    /// Moves the cursor `n` shown entries up (older).
    pub(crate) fn scroll_up(&mut self, n: usize) {
        let Some(mut seq) = self.cursor() else { return };
        for _ in 0..n {
            match self.log.prev(seq, self.filter) {
                Some(s) => seq = s,
                None => break,
            }
        }
        self.select(Some(seq));
    }

    /// Moves the cursor `n` shown entries down; past the newest, follows again.
    pub(crate) fn scroll_down(&mut self, n: usize) {
        let Some(mut seq) = self.selected else { return };
        for _ in 0..n {
            match self.log.next(seq, self.filter) {
                Some(s) => seq = s,
                None => {
                    self.follow();
                    return;
                }
            }
        }
        self.selected = Some(seq);
    }

    /// Jumps to the oldest shown entry.
    pub(crate) fn scroll_home(&mut self) {
        let first = self.log.first(self.filter);
        self.select(first);
    }

    /// Keeps the cursor inside a viewport of `rows` rows; call before drawing.
    pub fn sync_view(&mut self, rows: usize) {
        self.log_rows = rows.max(1);
        let Some(sel) = self.selected else { return };
        if sel < self.view_top {
            self.view_top = sel;
            return;
        }
        // Scroll when the cursor fell below the viewport: put it on the last row.
        if self.log.count_between(self.view_top, sel, self.filter) >= self.log_rows {
            let mut top = sel;
            for _ in 1..self.log_rows {
                match self.log.prev(top, self.filter) {
                    Some(t) => top = t,
                    None => break,
                }
            }
            self.view_top = top;
        }
    }

    /// The sequence numbers to draw, top to bottom, for a viewport of `rows` rows.
    pub fn visible(&self, rows: usize) -> Vec<u64> {
        match self.selected {
            None => {
                let mut out: Vec<u64> = self
                    .log
                    .shown_before(self.log.end_seq(), self.filter)
                    .take(rows)
                    .collect();
                out.reverse();
                out
            }
            Some(_) => self
                .log
                .shown_from(self.view_top, self.filter)
                .take(rows)
                .collect(),
        }
    }

    // ---- search -----------------------------------------------------------------------------

    fn find_hit(&self, mut seqs: impl Iterator<Item = u64>, q: &str) -> Option<u64> {
        seqs.find(|s| {
            self.log
                .get(*s)
                .is_some_and(|e| contains_ignore_case(&e.data, q.as_bytes()))
        })
    }

    /// Jumps to the next older hit (`older`) or newer hit.
    pub(crate) fn search_step(&mut self, older: bool) {
        let Some(q) = self.search.clone() else {
            self.say(Level::Warn, "no search: F3 finds a text");
            return;
        };
        let from = self.cursor().unwrap_or(self.log.end_seq());
        let hit = if older {
            self.find_hit(self.log.shown_before(from, self.filter), &q)
        } else {
            self.find_hit(self.log.shown_from(from.saturating_add(1), self.filter), &q)
        };
        match hit {
            Some(seq) => self.select(Some(seq)),
            None => self.say(
                Level::Warn,
                format!(
                    "no {} match for `{q}`",
                    if older { "older" } else { "newer" }
                ),
            ),
        }
    }

    fn start_search(&mut self, query: String) {
        if query.is_empty() {
            self.search = None;
            return;
        }
        self.search = Some(query.clone());
        // The newest hit at or above the cursor.
        let from = self.cursor().map_or(self.log.end_seq(), |c| c + 1);
        match self.find_hit(self.log.shown_before(from, self.filter), &query) {
            Some(seq) => self.select(Some(seq)),
            None => self.say(Level::Warn, format!("no match for `{query}`")),
        }
    }
}
