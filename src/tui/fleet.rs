//! A fleet of endpoints: the overview table and drilling into one endpoint's dashboard.
//! Plain state like `App`: keys and events in, effects for a given endpoint out.

mod targets;

pub use targets::Watched;

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEventKind};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::app::{App, Effect, Notice};
use super::bindings::{self, FleetAct, Key};
use super::log::Level;
use super::theme::Theme;
use crate::engine::Stamped;
use crate::model::{ConnState, Health};

/// An open endpoint whose last failure is younger than this still counts as a problem.
pub(crate) const RECENT_FAILURE: Duration = Duration::from_secs(300);

/// The overview's row order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Given up, down, connecting, recently failed, then healthy; by name within each.
    Problems,
    /// By name.
    Name,
    /// Least available first.
    Availability,
    /// Slowest RTT p50 first.
    Rtt,
    /// Most reconnects first.
    Reconnects,
}

impl SortKey {
    /// The next order, for the `s` key.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Problems => SortKey::Name,
            SortKey::Name => SortKey::Availability,
            SortKey::Availability => SortKey::Rtt,
            SortKey::Rtt => SortKey::Reconnects,
            SortKey::Reconnects => SortKey::Problems,
        }
    }

    /// How the footer and title name it.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Problems => "problems first",
            SortKey::Name => "name",
            SortKey::Availability => "availability",
            SortKey::Rtt => "RTT p50",
            SortKey::Reconnects => "reconnects",
        }
    }
}

/// How bad an endpoint looks, worst first: the problems-first order.
pub(crate) fn severity(app: &App) -> u8 {
    let health = app.stats().health(app.now);
    // Sick endpoints rank by their sickness, never with the healthy ones; among the healthy,
    // one that failed recently comes first.
    match health {
        Health::Healthy if failed_recently(app) => health.rank(),
        Health::Healthy => health.rank() + 1,
        _ => health.rank(),
    }
}

/// The endpoint's last failure is younger than `RECENT_FAILURE`.
pub(crate) fn failed_recently(app: &App) -> bool {
    app.stats()
        .last_failure
        .as_ref()
        .is_some_and(|(at, _)| app.now.duration_since(*at).unwrap_or_default() < RECENT_FAILURE)
}

/// Endpoint counts for the title: open, down (waiting, closed, gave up), connecting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Open now.
    pub open: usize,
    /// Not connected and not dialing.
    pub down: usize,
    /// Dialing or not started.
    pub connecting: usize,
    /// Open but sick: stale, flapping, or pings unanswered (counted among the open too).
    pub sick: usize,
}

/// The overview of many endpoints, and the one drilled into.
pub struct FleetApp {
    /// One dashboard per endpoint, in engine order.
    pub apps: Vec<App>,
    /// The endpoint whose dashboard fills the screen.
    pub drilled: Option<usize>,
    /// The endpoint under the cursor (an engine index, so re-sorting keeps it).
    pub selected: usize,
    /// Row order.
    pub sort: SortKey,
    /// Rows whose name or URL contain this (case-insensitive).
    pub filter: String,
    /// The filter being typed.
    pub filter_input: Option<Input>,
    /// The key help is shown.
    pub help: bool,
    /// Quit? What quitting would end, while the question is on screen.
    pub confirm: Option<String>,
    /// A transient footer message.
    pub status: Notice,
    /// The clock the overview shows.
    pub now: SystemTime,
    /// Colours or monochrome.
    pub theme: Theme,
    /// First row of the table's viewport, as a position in `order()`.
    pub top: usize,
    /// Table rows that fit at the last draw.
    pub rows: usize,
    /// Set when the user asked to quit.
    pub quit: bool,
    /// RTT p50 per endpoint, refreshed each second for sorting.
    p50: Vec<Option<Duration>>,
    /// The cursor stays on its endpoint: placed by the user, or once every endpoint has had
    /// its first outcome (until then it is on the top row, the worst problem).
    placed: bool,
    /// Endpoints a targets file dropped: no longer rows, counted or commanded.
    gone: Vec<bool>,
    /// With a targets file: how its new endpoints' dashboards are set up, and how it stands.
    pub targets: Option<targets::Watched>,
}

impl FleetApp {
    /// An overview of these dashboards (at least one).
    pub fn new(apps: Vec<App>) -> FleetApp {
        let theme = apps
            .first()
            .map(|a| a.opts.theme)
            .unwrap_or_else(Theme::mono);
        let n = apps.len();
        FleetApp {
            apps,
            drilled: None,
            selected: 0,
            sort: SortKey::Problems,
            filter: String::new(),
            filter_input: None,
            help: false,
            confirm: None,
            status: Notice::default(),
            now: SystemTime::now(),
            theme,
            top: 0,
            rows: 10,
            quit: false,
            p50: vec![None; n],
            placed: false,
            gone: vec![false; n],
            targets: None,
        }
    }

    /// The endpoints still watched, with their ids.
    pub fn watched(&self) -> impl Iterator<Item = (usize, &App)> {
        self.apps
            .iter()
            .enumerate()
            .filter(|(id, _)| !self.gone[*id])
    }

    /// Whether endpoint `id` is still watched.
    pub(crate) fn is_watched(&self, id: usize) -> bool {
        !self.gone.get(id).copied().unwrap_or(true)
    }

    /// The endpoint's display name.
    pub fn name(&self, id: usize) -> &str {
        self.apps[id].opts.name.as_deref().unwrap_or("")
    }

    /// Shows a transient message in the footer of whatever is on screen.
    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        match self.drilled {
            Some(d) => self.apps[d].say(level, text),
            None => self.status.set(level, text, self.now),
        }
    }

    /// The overview's footer message, if still current.
    pub fn current_status(&self) -> Option<(&str, Level)> {
        self.status.current(self.now)
    }

    /// Sets the clock of the overview and every dashboard.
    pub fn set_now(&mut self, now: SystemTime) {
        self.now = now;
        for a in &mut self.apps {
            a.now = now;
        }
    }

    /// Folds a batch of endpoint `id`'s events in; returns whether the screen should show
    /// it now: always for the endpoint on screen, for the overview only when a state changed
    /// (RTT samples and counters show at the next once-a-second tick, which keeps a large
    /// fleet's heartbeats from redrawing the table dozens of times a second).
    pub fn apply(&mut self, id: usize, batch: &[Stamped]) -> bool {
        let Some(a) = self.apps.get_mut(id) else {
            return false;
        };
        let before = a.stats().state.code();
        a.apply(batch);
        match self.drilled {
            Some(d) => d == id,
            None => a.stats().state.code() != before,
        }
    }

    /// Called about once a second: rates, and the RTT p50 the sort uses.
    pub fn tick(&mut self, now: SystemTime) {
        self.now = now;
        for a in &mut self.apps {
            a.tick(now);
        }
        if self.sort == SortKey::Rtt {
            self.refresh_p50();
        }
    }

    fn refresh_p50(&mut self) {
        for (i, a) in self.apps.iter().enumerate() {
            self.p50[i] = a.stats().rtt.percentiles([50.0])[0];
        }
    }

    /// Open, down and connecting endpoints.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for (_, a) in self.watched() {
            match a.stats().state {
                ConnState::Open => {
                    c.open += 1;
                    c.sick += usize::from(a.stats().health(self.now).degraded());
                }
                ConnState::Starting | ConnState::Connecting { .. } => c.connecting += 1,
                _ => c.down += 1,
            }
        }
        c
    }

    /// The endpoint under the cursor is one of the rows shown (the filter may hide it).
    pub(crate) fn shown_selected(&self) -> bool {
        self.selected < self.apps.len() && self.shown(self.selected)
    }

    fn shown(&self, id: usize) -> bool {
        if self.gone[id] {
            return false;
        }
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        self.name(id).to_lowercase().contains(&f)
            || self.apps[id].opts.url.to_lowercase().contains(&f)
            || self.apps[id].opts.labels.to_lowercase().contains(&f)
    }

    /// The endpoints shown, in row order.
    pub fn order(&self) -> Vec<usize> {
        let mut ids: Vec<usize> = (0..self.apps.len()).filter(|i| self.shown(*i)).collect();
        let by_name = |a: &usize, b: &usize| self.name(*a).cmp(self.name(*b)).then(a.cmp(b));
        let now = self.now;
        match self.sort {
            SortKey::Problems => {
                let sev: Vec<u8> = self.apps.iter().map(severity).collect();
                ids.sort_by(|a, b| sev[*a].cmp(&sev[*b]).then_with(|| by_name(a, b)));
            }
            SortKey::Name => ids.sort_by(by_name),
            SortKey::Availability => {
                let avail: Vec<f64> = self
                    .apps
                    .iter()
                    .map(|a| a.stats().availability(now).unwrap_or(100.0))
                    .collect();
                ids.sort_by(|a, b| {
                    avail[*a]
                        .partial_cmp(&avail[*b])
                        .unwrap_or(Ordering::Equal)
                        .then_with(|| by_name(a, b))
                });
            }
            SortKey::Rtt => ids.sort_by(|a, b| {
                // Slowest first; endpoints without samples last.
                match (self.p50[*a], self.p50[*b]) {
                    (Some(x), Some(y)) => y.cmp(&x),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                }
                .then_with(|| by_name(a, b))
            }),
            SortKey::Reconnects => ids.sort_by(|a, b| {
                let r = |i: usize| self.apps[i].stats().reconnects;
                r(*b).cmp(&r(*a)).then_with(|| by_name(a, b))
            }),
        }
        ids
    }

    /// Keeps the cursor on a shown row and inside a viewport of `rows` rows; returns the order.
    pub fn sync_view(&mut self, rows: usize) -> Vec<usize> {
        self.rows = rows.max(1);
        let order = self.order();
        // The cursor is on the top row (the worst problem) until every endpoint has had its
        // first outcome; from then on it stays on its endpoint, however the rows move.
        if !self.placed
            && let Some(first) = order.first()
        {
            self.selected = *first;
            let placed = self.watched().all(|(_, a)| {
                let s = a.stats();
                s.connects > 0 || s.last_failure.is_some()
            });
            self.placed = placed;
        }
        let pos = match order.iter().position(|i| *i == self.selected) {
            Some(p) => p,
            None => {
                if let Some(first) = order.first() {
                    self.selected = *first;
                }
                0
            }
        };
        if pos < self.top {
            self.top = pos;
        } else if pos >= self.top + self.rows {
            self.top = pos + 1 - self.rows;
        }
        self.top = self.top.min(order.len().saturating_sub(self.rows));
        order
    }

    fn move_cursor(&mut self, delta: isize) {
        let order = self.order();
        if order.is_empty() {
            return;
        }
        let pos = order.iter().position(|i| *i == self.selected).unwrap_or(0) as isize;
        let to = (pos + delta).clamp(0, order.len() as isize - 1) as usize;
        self.selected = order[to];
        self.placed = true;
    }

    fn drill(&mut self) -> bool {
        if !self.shown(self.selected) || self.apps.is_empty() {
            self.say(Level::Info, "no endpoint matches the filter: Esc clears it");
            return false;
        }
        self.drilled = Some(self.selected);
        self.placed = true;
        true
    }

    /// What quitting would end across the fleet, in words; `None` when nothing.
    pub(crate) fn what_quitting_ends(&self) -> Option<String> {
        let recording = self
            .watched()
            .filter(|(_, a)| a.recording.is_some())
            .count() as u64;
        let queued: u64 = self.watched().map(|(_, a)| a.stats().queued as u64).sum();
        let typed = self
            .apps
            .iter()
            .filter(|a| !a.input.value().is_empty())
            .count() as u64;
        let mut what = Vec::new();
        if recording > 0 {
            what.push(format!(
                "{} stop (what they wrote is kept)",
                crate::text::counted(recording, "recording", "recordings")
            ));
        }
        if queued > 0 {
            what.push(format!(
                "{} waiting for their connections will not be sent",
                crate::text::counted(queued, "queued message", "queued messages")
            ));
        }
        if typed > 0 {
            what.push(format!(
                "{} typed and not sent",
                crate::text::counted(typed, "line", "lines")
            ));
        }
        (!what.is_empty()).then(|| what.join("; "))
    }

    /// Quits, unless something would end with it: then asks first (on the dashboard on
    /// screen, or on the overview).
    fn request_quit(&mut self) {
        match (self.what_quitting_ends(), self.drilled) {
            (None, _) => self.quit = true,
            (Some(why), Some(d)) => self.apps[d].overlay = Some(super::app::Overlay::Quit(why)),
            (Some(why), None) => self.confirm = Some(why),
        }
    }

    /// Handles a terminal event; returns what the loop should do, and for which endpoint.
    pub fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)> {
        if let Some(d) = self.drilled {
            if let TermEvent::Key(k) = ev
                && k.kind != KeyEventKind::Release
            {
                if k.code == KeyCode::Esc && self.apps[d].at_rest() {
                    self.drilled = None;
                    self.selected = d;
                    self.placed = true;
                    return Vec::new();
                }
                // Quitting is the fleet's question: other endpoints may be recording.
                let quit = bindings::lookup(bindings::DASHBOARD, Key::of(k), false, true)
                    == Some(bindings::Act::Quit);
                if quit && self.apps[d].overlay.is_none() {
                    self.request_quit();
                    return Vec::new();
                }
            }
            let effects = self.apps[d].on_terminal(ev);
            if self.apps[d].quit {
                self.quit = true;
            }
            return self.route(d, effects);
        }
        let TermEvent::Key(key) = ev else {
            if let TermEvent::Mouse(m) = ev {
                use ratatui::crossterm::event::MouseEventKind;
                match m.kind {
                    MouseEventKind::ScrollUp => self.move_cursor(-3),
                    MouseEventKind::ScrollDown => self.move_cursor(3),
                    _ => {}
                }
            }
            return Vec::new();
        };
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let k = Key::of(key);
        if self.confirm.is_some() {
            match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => self.quit = true,
                _ if bindings::lookup(bindings::OVERVIEW, k, false, true)
                    == Some(FleetAct::Quit) =>
                {
                    self.quit = true
                }
                _ => self.confirm = None,
            }
            return Vec::new();
        }
        if self.help {
            if matches!(
                key.code,
                KeyCode::Esc | KeyCode::Char('q' | '?') | KeyCode::Enter | KeyCode::F(1)
            ) {
                self.help = false;
            }
            return Vec::new();
        }
        if let Some(input) = &mut self.filter_input {
            match key.code {
                KeyCode::Enter => self.filter_input = None,
                KeyCode::Esc => {
                    self.filter_input = None;
                    self.filter.clear();
                }
                _ => {
                    input.handle_event(ev);
                    // The table narrows as the filter is typed.
                    self.filter = input.value().to_string();
                }
            }
            return Vec::new();
        }
        let page = self.rows.max(2) as isize - 1;
        let Some(act) = bindings::lookup(bindings::OVERVIEW, k, false, true) else {
            if !matches!(key.code, KeyCode::Modifier(_)) {
                self.say(
                    Level::Info,
                    format!(
                        "{} is not a key here: ? lists the keys, Enter opens an endpoint",
                        k.name()
                    ),
                );
            }
            return Vec::new();
        };
        match act {
            FleetAct::Quit => self.request_quit(),
            FleetAct::Help => self.help = true,
            FleetAct::Up => self.move_cursor(-1),
            FleetAct::Down => self.move_cursor(1),
            FleetAct::PageUp => self.move_cursor(-page),
            FleetAct::PageDown => self.move_cursor(page),
            FleetAct::First => self.move_cursor(isize::MIN / 2),
            FleetAct::Last => self.move_cursor(isize::MAX / 2),
            FleetAct::Open => {
                self.drill();
            }
            FleetAct::Sort => {
                self.sort = self.sort.next();
                if self.sort == SortKey::Rtt {
                    self.refresh_p50();
                }
                self.top = 0;
                self.say(Level::Info, format!("sorted by {}", self.sort.label()));
            }
            FleetAct::Filter => {
                self.filter_input = Some(Input::new(self.filter.clone()));
            }
            FleetAct::ClearFilter => self.filter.clear(),
            FleetAct::Ping => {
                return vec![(self.selected, Effect::Engine(crate::engine::Command::Ping))];
            }
            FleetAct::Reconnect => {
                return vec![(
                    self.selected,
                    Effect::Engine(crate::engine::Command::Reconnect),
                )];
            }
            FleetAct::PerEndpoint => {
                let (record, report) = self.apps.first().map_or_else(Default::default, |a| {
                    let map = &a.opts.keymap;
                    (
                        map.hint(crate::keymap::Act::Record),
                        map.hint(crate::keymap::Act::Report),
                    )
                });
                self.say(
                    Level::Info,
                    format!(
                        "open an endpoint (Enter); there {record} or /record records it, {report} or /report writes its report"
                    ),
                );
            }
        }
        Vec::new()
    }

    /// Tags a dashboard's effects with its endpoint; a broadcast becomes one send per open
    /// endpoint.
    fn route(&mut self, from: usize, effects: Vec<Effect>) -> Vec<(usize, Effect)> {
        let mut out = Vec::new();
        for e in effects {
            match e {
                Effect::Broadcast(cmd) => {
                    let open: Vec<usize> = self
                        .watched()
                        .filter(|(_, a)| a.stats().state == ConnState::Open)
                        .map(|(i, _)| i)
                        .collect();
                    let skipped: Vec<&str> = (0..self.apps.len())
                        .filter(|i| self.is_watched(*i) && !open.contains(i))
                        .map(|i| self.name(i))
                        .collect();
                    let named = match skipped.len() {
                        0 => String::new(),
                        n if n <= 3 => format!("; not sent to {} (not open)", skipped.join(", ")),
                        n => format!(
                            "; not sent to {} and {} more (not open)",
                            skipped[..3].join(", "),
                            n - 3
                        ),
                    };
                    let skipped = skipped.len();
                    let msg = format!(
                        "broadcast to {}{named}",
                        crate::text::counted(open.len() as u64, "open endpoint", "open endpoints"),
                    );
                    self.say(
                        if skipped > 0 {
                            Level::Warn
                        } else {
                            Level::Good
                        },
                        msg,
                    );
                    out.extend(open.into_iter().map(|i| (i, Effect::Engine(cmd.clone()))));
                }
                other => out.push((from, other)),
            }
        }
        out
    }
}
