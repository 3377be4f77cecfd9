//! The dashboard's one loop: a `select!` over terminal events, the session's event batches,
//! the frame deadline, the clock, metrics scrapes and stop signals. The real terminal and the
//! benchmarks (a `TestBackend`) run this same code.

use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use ratatui::Frame;
use ratatui::crossterm::event::{Event as TermEvent, EventStream};
use ratatui::layout::Rect;
use tokio::time::{Instant, sleep_until};

use super::app::{App, Effect, Overlay, ReplayView};
use super::fleet::FleetApp;
use super::log::Level;
use super::terminal::TerminalGuard;
use super::{effects, panes, render};
use crate::engine::{Stamped, StopReason};
use crate::model::{ConnState, ConnStats};
use crate::session::{Arrival, Session};

/// Most engine batches folded in before the loop looks at keys and the clock again.
const BATCHES_PER_TURN: usize = 64;
/// Most time spent folding batches before the loop looks at keys and the clock again: under a
/// flood a key still gets its frame soon.
const FOLD_TURN: Duration = Duration::from_millis(2);

/// Lays out and clamps scrolling for a screen of `area` before drawing; returns the layout.
pub fn prepare(app: &mut App, area: Rect) -> render::Regions {
    let regions = render::layout(app, area);
    app.sync_view(regions.log_rows());
    if let Some(Overlay::Detail(d)) = &mut app.overlay {
        let inner = panes::detail::area_for(area);
        let (w, h) = (
            inner.width.saturating_sub(2) as usize,
            inner.height.saturating_sub(2) as usize,
        );
        let total = panes::detail::wrapped_lines(&d.body, w);
        d.scroll = d.scroll.min(total.saturating_sub(h));
    }
    regions
}

/// What the loop draws and feeds: one endpoint's dashboard, or a fleet of them.
pub trait Screen {
    /// Frame-rate cap.
    fn fps(&self) -> u32;
    /// Sets the clock the panes show.
    fn set_now(&mut self, now: SystemTime);
    /// Folds a batch of endpoint `id`'s events in; returns whether the screen should be
    /// redrawn now rather than at the next clock tick.
    fn apply(&mut self, id: usize, batch: &[Stamped]) -> bool;
    /// Whether endpoint `id`'s batch changes what the connection is (opened, closed, failed):
    /// a frame then comes as soon as a key's would, not at the next frame of the rate.
    fn urgent(&self, id: usize, batch: &[Stamped]) -> bool;
    /// Handles a terminal event; returns what to do, and for which endpoint.
    fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)>;
    /// Called about once a second.
    fn tick(&mut self, now: SystemTime);
    /// A countdown in tenths of a second is on screen.
    fn counting_down(&self) -> bool;
    /// The user asked to quit.
    fn quit(&self) -> bool;
    /// Endpoint `id`'s dashboard.
    fn app_mut(&mut self, id: usize) -> &mut App;
    /// Endpoint `id`'s numbers (for metrics scrapes).
    fn stats(&self, id: usize) -> &ConnStats;
    /// The dashboard captures the mouse at start.
    fn captures_mouse(&mut self) -> bool {
        self.app_mut(0).mouse
    }
    /// The targets file was read again (only a fleet has one).
    fn targets_changed(&mut self, _change: &crate::session::TargetsChange) {}
    /// Lays out and draws a frame.
    fn draw(&mut self, frame: &mut Frame<'_>);
}

/// Draws one dashboard filling the frame, with the cursor where typing goes.
fn draw_app(app: &mut App, frame: &mut Frame<'_>) {
    let area = frame.area();
    let r = prepare(app, area);
    frame.render_widget(&*app, area);
    if app.overlay.is_none()
        && let Some(pos) = panes::input::cursor(app, r.input)
    {
        frame.set_cursor_position(pos);
    }
}

/// A batch that changes the connection's state (not traffic, not the heartbeat).
fn changes_state(batch: &[Stamped]) -> bool {
    use crate::engine::Event;
    batch.iter().rev().any(|s| {
        matches!(
            s.event,
            Event::Open(_)
                | Event::Closed(_)
                | Event::Error(_)
                | Event::GaveUp { .. }
                | Event::Stopped(_)
        )
    })
}

fn waiting(app: &App) -> bool {
    matches!(app.stats().state, ConnState::Waiting { .. })
}

impl Screen for App {
    fn fps(&self) -> u32 {
        self.opts.fps
    }
    fn set_now(&mut self, now: SystemTime) {
        self.now = now;
    }
    fn apply(&mut self, _id: usize, batch: &[Stamped]) -> bool {
        App::apply(self, batch);
        true
    }
    fn urgent(&self, _id: usize, batch: &[Stamped]) -> bool {
        changes_state(batch)
    }
    fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)> {
        let effects = App::on_terminal(self, ev);
        let mut out = Vec::with_capacity(effects.len());
        for e in effects {
            match e {
                // With one endpoint, "every open endpoint" is this one when it is open.
                Effect::Broadcast(cmd) if self.stats().state == ConnState::Open => {
                    out.push((0, Effect::Engine(cmd)));
                }
                Effect::Broadcast(_) => self.say(
                    Level::Warn,
                    "broadcast: the connection is not open; nothing sent",
                ),
                other => out.push((0, other)),
            }
        }
        out
    }
    fn tick(&mut self, now: SystemTime) {
        App::tick(self, now);
    }
    fn counting_down(&self) -> bool {
        waiting(self)
    }
    fn quit(&self) -> bool {
        self.quit
    }
    fn app_mut(&mut self, _id: usize) -> &mut App {
        self
    }
    fn stats(&self, _id: usize) -> &ConnStats {
        App::stats(self)
    }
    fn draw(&mut self, frame: &mut Frame<'_>) {
        draw_app(self, frame);
    }
}

impl Screen for FleetApp {
    fn fps(&self) -> u32 {
        self.apps.first().map_or_else(
            || self.targets.as_ref().map_or(30, |t| t.template.fps),
            |a| a.opts.fps,
        )
    }
    fn targets_changed(&mut self, change: &crate::session::TargetsChange) {
        FleetApp::targets_changed(self, change);
    }
    fn captures_mouse(&mut self) -> bool {
        self.apps.first().map_or_else(
            || self.targets.as_ref().is_none_or(|t| t.template.mouse),
            |a| a.mouse,
        )
    }
    fn set_now(&mut self, now: SystemTime) {
        FleetApp::set_now(self, now);
    }
    fn apply(&mut self, id: usize, batch: &[Stamped]) -> bool {
        FleetApp::apply(self, id, batch)
    }
    fn urgent(&self, id: usize, batch: &[Stamped]) -> bool {
        // Only the endpoint on screen: a fleet's overview changes all the time.
        self.drilled == Some(id) && changes_state(batch)
    }
    fn on_terminal(&mut self, ev: &TermEvent) -> Vec<(usize, Effect)> {
        FleetApp::on_terminal(self, ev)
    }
    fn tick(&mut self, now: SystemTime) {
        FleetApp::tick(self, now);
    }
    fn counting_down(&self) -> bool {
        self.drilled.is_some_and(|d| waiting(&self.apps[d]))
    }
    fn quit(&self) -> bool {
        self.quit
    }
    fn app_mut(&mut self, id: usize) -> &mut App {
        &mut self.apps[id]
    }
    fn stats(&self, id: usize) -> &ConnStats {
        self.apps[id].stats()
    }
    fn draw(&mut self, frame: &mut Frame<'_>) {
        if let Some(d) = self.drilled {
            draw_app(&mut self.apps[d], frame);
            return;
        }
        let area = frame.area();
        let order = self.sync_view(panes::overview::table_rows(area));
        panes::overview::render(self, &order, area, frame.buffer_mut());
        if let Some(pos) = panes::overview::cursor(self, area) {
            frame.set_cursor_position(pos);
        }
    }
}

/// The loop on the real terminal, until the user quits, the terminal goes or a stop signal
/// comes; the terminal is given back on every way out.
pub(crate) async fn run_on_terminal<S: Screen>(
    screen: &mut S,
    session: &mut Session,
) -> anyhow::Result<StopReason> {
    let (guard, mut terminal) = TerminalGuard::enter(screen.captures_mouse())?;
    let mut term_events = EventStream::new();
    let result = drive(
        screen,
        session,
        &mut terminal,
        &mut term_events,
        crate::signals::wait_for_stop(),
        &mut Hooks::default(),
    )
    .await;
    drop(terminal);
    drop(guard);
    result
}

/// Called after every frame with the screen and when the frame was drawn.
pub type FrameHook<'a, S> = &'a mut dyn FnMut(&S, Instant);

/// Ways to watch the loop from outside; benchmarks use them, the dashboard does not.
pub struct Hooks<'a, S> {
    /// Called after every frame is drawn.
    pub on_frame: Option<FrameHook<'a, S>>,
    /// Checked after each fold of event batches; the loop returns when it holds.
    pub done: Option<&'a dyn Fn(&S) -> bool>,
}

impl<S> Default for Hooks<'_, S> {
    fn default() -> Self {
        Hooks {
            on_frame: None,
            done: None,
        }
    }
}

/// The dashboard's loop over any backend and any source of terminal events.
pub async fn drive<Sc, B, S>(
    screen: &mut Sc,
    session: &mut Session,
    terminal: &mut ratatui::Terminal<B>,
    term_events: &mut S,
    stop: impl std::future::Future<Output = ()>,
    hooks: &mut Hooks<'_, Sc>,
) -> anyhow::Result<StopReason>
where
    Sc: Screen,
    B: ratatui::backend::Backend,
    S: futures_util::Stream<Item = std::io::Result<TermEvent>> + Unpin,
{
    let frame_every = Duration::from_secs_f64(1.0 / f64::from(screen.fps().max(1)));
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tokio::pin!(stop);
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame_every;
    // A key is answered by a frame sooner than the frame rate would draw one, at most four
    // times as often: what is typed shows at once, even under a flood.
    let key_frame_gap = frame_every / 4;
    let mut key_due: Option<Instant> = None;
    // For the test that proves a panic restores the terminal and prints its message: built
    // with the tests' `test-support` feature only.
    let test_panic =
        cfg!(feature = "test-support") && std::env::var_os("WSMON_TEST_PANIC").is_some();
    screen.set_now(session.now());

    while !screen.quit() {
        let countdown = screen.counting_down();
        tokio::select! {
            biased;
            ev = term_events.next() => {
                match ev {
                    Some(Ok(ev)) => {
                        for (id, effect) in screen.on_terminal(&ev) {
                            effects::perform(screen.app_mut(id), id, session, effect).await;
                        }
                        dirty = true;
                        key_due.get_or_insert((last_draw + key_frame_gap).max(Instant::now()));
                    }
                    // The terminal is gone (e.g. the SSH session dropped).
                    Some(Err(_)) | None => return Ok(StopReason::Signal),
                }
            }
            _ = sleep_until(key_due.map_or(last_draw + frame_every, |k| k.min(last_draw + frame_every))), if dirty => {
                screen.set_now(session.now());
                match session.player() {
                    Some(player) => {
                        screen.app_mut(0).replay = Some(ReplayView {
                            speed: player.clock.speed(),
                            paused: player.clock.paused(),
                            at: player.progress.position(),
                        });
                    }
                    None => {
                        for id in 0..session.names().len() {
                            let status = session.recording(id);
                            if status.is_some() {
                                screen.app_mut(id).recording = status;
                            }
                        }
                    }
                }
                if terminal.draw(|f| screen.draw(f)).is_err() {
                    return Ok(StopReason::Signal);
                }
                last_draw = Instant::now();
                dirty = false;
                key_due = None;
                if let Some(f) = hooks.on_frame.as_mut() {
                    f(screen, last_draw);
                }
                if test_panic {
                    panic!("WSMON_TEST_PANIC is set: a deliberate panic after the first frame");
                }
            }
            arrival = session.next() => match arrival {
                Arrival::Batch(id, batch) => {
                    let turn = std::time::Instant::now();
                    let mut changed = screen.apply(id, &batch);
                    let mut urgent = screen.urgent(id, &batch);
                    // Fold in what else waits, then look at keys and the clock again.
                    for _ in 1..BATCHES_PER_TURN {
                        if turn.elapsed() >= FOLD_TURN {
                            break;
                        }
                        match session.try_batch() {
                            Some((id, b)) => {
                                changed |= screen.apply(id, &b);
                                urgent |= screen.urgent(id, &b);
                            }
                            None => break,
                        }
                    }
                    dirty |= changed;
                    if urgent {
                        key_due.get_or_insert((last_draw + key_frame_gap).max(Instant::now()));
                    }
                    if hooks.done.is_some_and(|done| done(screen)) {
                        return Ok(StopReason::EndOfInput);
                    }
                }
                Arrival::Scrape(scrape) => {
                    let now = session.now();
                    scrape.answer(crate::metrics::render(
                        session.watched().map(|(i, n, l)| (n, l, screen.stats(i))),
                        session.targets_status(),
                        now,
                    ));
                }
                Arrival::Targets(change) => {
                    screen.targets_changed(&change);
                    dirty = true;
                }
                Arrival::RecordingProblem(_) => {
                    // The title shows the recorder's state at every frame.
                    dirty = true;
                }
                Arrival::Ended => {}
            },
            _ = clock.tick() => {
                screen.tick(session.now());
                dirty = true;
            }
            // The countdown shows tenths of a second.
            _ = tokio::time::sleep(Duration::from_millis(100)), if countdown => dirty = true,
            _ = &mut stop => return Ok(StopReason::Signal),
        }
    }
    Ok(StopReason::Quit)
}
