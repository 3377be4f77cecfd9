//! Keys, mouse and paste: what each does to the dashboard, and what it asks of the loop.

use ratatui::crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::{App, Effect, Focus, Overlay};
use crate::engine::Command;
use crate::tui::bindings::{self, Act};
use crate::tui::input::{Action, parse_line};
use crate::tui::log::Level;

/// Rows the mouse wheel scrolls.
const WHEEL_ROWS: usize = 3;

impl App {
    // ---- keys -------------------------------------------------------------------------------

    /// Handles a terminal event; returns what the loop should do.
    pub fn on_terminal(&mut self, ev: &TermEvent) -> Vec<Effect> {
        match ev {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => self.on_key(*k, ev),
            TermEvent::Mouse(m) => {
                if self.overlay.is_none() {
                    match m.kind {
                        MouseEventKind::ScrollUp => self.scroll_up(WHEEL_ROWS),
                        MouseEventKind::ScrollDown => self.scroll_down(WHEEL_ROWS),
                        _ => {}
                    }
                } else if let Some(Overlay::Detail(d)) = &mut self.overlay {
                    match m.kind {
                        MouseEventKind::ScrollUp => d.scroll = d.scroll.saturating_sub(WHEEL_ROWS),
                        MouseEventKind::ScrollDown => d.scroll += WHEEL_ROWS,
                        _ => {}
                    }
                }
                Vec::new()
            }
            TermEvent::Paste(text) => {
                match self.focus {
                    Focus::Input => {
                        let line = text.replace(['\r', '\n'], " ");
                        let value = format!("{}{}", self.input.value(), line);
                        self.input = Input::new(value);
                    }
                    Focus::Search => {
                        let value = format!(
                            "{}{}",
                            self.search_input.value(),
                            text.replace(['\r', '\n'], " ")
                        );
                        self.search_input = Input::new(value);
                    }
                    Focus::Log => {}
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_key(&mut self, key: KeyEvent, ev: &TermEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c')) {
            self.quit = true;
            return Vec::new();
        }
        if let Some(overlay) = &mut self.overlay {
            match overlay {
                Overlay::Help => {
                    if matches!(
                        key.code,
                        KeyCode::Esc | KeyCode::Char('q' | '?') | KeyCode::Enter
                    ) {
                        self.overlay = None;
                    }
                }
                Overlay::Detail(d) => {
                    let page = self.log_rows.max(2) - 1;
                    match key.code {
                        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => self.overlay = None,
                        KeyCode::Up | KeyCode::Char('k') => d.scroll = d.scroll.saturating_sub(1),
                        KeyCode::Down | KeyCode::Char('j') => d.scroll += 1,
                        KeyCode::PageUp => d.scroll = d.scroll.saturating_sub(page),
                        KeyCode::PageDown | KeyCode::Char(' ') => d.scroll += page,
                        KeyCode::Home | KeyCode::Char('g') => d.scroll = 0,
                        KeyCode::End | KeyCode::Char('G') => d.scroll = usize::MAX / 2,
                        _ => {}
                    }
                }
            }
            return Vec::new();
        }
        match self.focus {
            Focus::Input => self.on_input_key(key, ev),
            Focus::Search => {
                match key.code {
                    KeyCode::Enter => {
                        let q = self.search_input.value().to_string();
                        self.focus = Focus::Log;
                        self.start_search(q);
                    }
                    KeyCode::Esc => self.focus = Focus::Log,
                    _ => {
                        self.search_input.handle_event(ev);
                    }
                }
                Vec::new()
            }
            Focus::Log => self.on_log_key(key),
        }
    }

    fn on_input_key(&mut self, key: KeyEvent, ev: &TermEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc | KeyCode::Tab => self.focus = Focus::Log,
            KeyCode::Enter => return self.submit(),
            KeyCode::Up => {
                if let Some(line) = self.history.older(self.input.value()) {
                    self.input = Input::new(line.to_string());
                }
            }
            KeyCode::Down => {
                if let Some(line) = self.history.newer() {
                    self.input = Input::new(line.to_string());
                }
            }
            _ => {
                self.input.handle_event(ev);
            }
        }
        Vec::new()
    }

    fn submit(&mut self) -> Vec<Effect> {
        let line = self.input.value().to_string();
        if line.is_empty() {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if let Some((path, text)) = self.history.push(&line) {
            effects.push(Effect::AppendHistory(path, text));
        }
        self.input.reset();
        effects.extend(self.act_on_line(&line));
        effects
    }

    /// What a submitted line asks for.
    fn act_on_line(&mut self, line: &str) -> Vec<Effect> {
        match parse_line(line, self.opts.preset) {
            Action::Engine(cmd) => {
                if matches!(cmd, Command::Send { .. }) {
                    // Sending is a moment to watch the answer come in.
                    self.follow();
                }
                vec![Effect::Engine(cmd)]
            }
            Action::Broadcast(cmd) => {
                self.follow();
                vec![Effect::Broadcast(cmd)]
            }
            Action::Clear => {
                self.log.clear();
                self.pending.clear();
                self.follow();
                self.view_top = self.log.first_seq();
                self.say(Level::Info, "log cleared; counters keep counting");
                Vec::new()
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                Vec::new()
            }
            Action::Error(e) => {
                self.say(Level::Bad, e);
                // Give the line back so it can be fixed.
                self.input = Input::new(line.to_string());
                Vec::new()
            }
        }
    }

    fn on_log_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let page = self.log_rows.max(2) - 1;
        let in_fleet = self.opts.name.is_some();
        let Some(act) = bindings::lookup(bindings::DASHBOARD, key.code, self.opts.replay, in_fleet)
        else {
            self.hint(key.code);
            return Vec::new();
        };
        match act {
            Act::Quit => self.quit = true,
            Act::Help => self.overlay = Some(Overlay::Help),
            Act::Type => self.focus = Focus::Input,
            Act::Search => {
                self.search_input = Input::new(self.search.clone().unwrap_or_default());
                self.focus = Focus::Search;
            }
            Act::OlderHit => self.search_step(true),
            Act::NewerHit => self.search_step(false),
            Act::Filter => self.next_filter(),
            Act::Up => self.scroll_up(1),
            Act::Down => self.scroll_down(1),
            Act::PageUp => self.scroll_up(page),
            Act::PageDown => self.scroll_down(page),
            Act::Oldest => self.scroll_home(),
            Act::Newest => self.follow(),
            Act::Detail => self.open_detail(),
            Act::Back => {
                if self.search.take().is_none() {
                    self.follow();
                }
            }
            Act::Ping => return vec![Effect::Engine(Command::Ping)],
            Act::Reconnect => return vec![Effect::Engine(Command::Reconnect)],
            Act::Record => return vec![Effect::ToggleRecording],
            Act::Report => return vec![Effect::WriteReport],
            Act::Pause => return vec![Effect::ReplayPause],
            Act::Faster => return vec![Effect::ReplaySpeed(2.0)],
            Act::Slower => return vec![Effect::ReplaySpeed(0.5)],
            Act::Step => return vec![Effect::ReplayStep],
        }
        Vec::new()
    }

    /// Says why a key did nothing: it needs a live connection, or it is not a key here.
    fn hint(&mut self, code: KeyCode) {
        match (bindings::elsewhere(code), self.opts.replay) {
            (Some(what), true) => self.say(
                Level::Warn,
                format!("replay: there is no live connection ({what})"),
            ),
            _ => {
                if let KeyCode::Char(c) = code {
                    self.say(
                        Level::Info,
                        format!("`{c}` is not a key here: ? lists the keys, Tab types a message"),
                    );
                }
            }
        }
    }

    fn next_filter(&mut self) {
        self.filter = self.filter.next();
        if let Some(sel) = self.selected
            && !self.log.get(sel).is_some_and(|e| self.filter.matches(e))
        {
            let near = self
                .log
                .prev(sel, self.filter)
                .or_else(|| self.log.next(sel, self.filter));
            match near {
                Some(s) => self.selected = Some(s),
                None => self.follow(),
            }
        }
        self.view_top = self.selected.unwrap_or(self.view_top);
        let label = self.filter.label();
        self.say(Level::Info, format!("showing {label}"));
    }
}
