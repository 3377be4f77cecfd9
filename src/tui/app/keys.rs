//! Keys, mouse and paste: what each does to the dashboard, and what it asks of the loop.
//!
//! On a live dashboard the input line has the keys: a printable key is always text, so
//! typing a message can never run a command (`bindings.rs` has no printable key there).

use ratatui::crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, MouseEventKind,
};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::{App, Effect, Focus, Overlay};
use crate::engine::Command;
use crate::keymap::Keymap;
use crate::model::ConnState;
use crate::tui::bindings::{self, Act, Key};
use crate::tui::input::{Action, parse_line};
use crate::tui::log::Level;
use crate::tui::log::Quiet;

/// Rows the mouse wheel scrolls.
const WHEEL_ROWS: usize = 3;

impl App {
    // ---- keys -------------------------------------------------------------------------------

    /// Handles a terminal event; returns what the loop should do.
    pub fn on_terminal(&mut self, ev: &TermEvent) -> Vec<Effect> {
        match ev {
            TermEvent::Key(k) if k.kind != KeyEventKind::Release => self.on_key(*k, ev),
            TermEvent::Mouse(m) => {
                match &mut self.overlay {
                    None => match m.kind {
                        MouseEventKind::ScrollUp => self.scroll_up(WHEEL_ROWS),
                        MouseEventKind::ScrollDown => self.scroll_down(WHEEL_ROWS),
                        _ => {}
                    },
                    Some(Overlay::Detail(d)) => match m.kind {
                        MouseEventKind::ScrollUp => d.scroll = d.scroll.saturating_sub(WHEEL_ROWS),
                        MouseEventKind::ScrollDown => d.scroll += WHEEL_ROWS,
                        _ => {}
                    },
                    Some(_) => {}
                }
                Vec::new()
            }
            TermEvent::Paste(text) => {
                self.paste(text);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// A paste goes into the line being typed as it is, newlines included: a message of
    /// several lines is sent with its newlines (a prompt, being one line, gets spaces).
    fn paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        match self.focus {
            Focus::Input => {
                let at = self.input.cursor();
                let mut value: Vec<char> = self.input.value().chars().collect();
                let n = text.chars().count();
                value.splice(at..at, text.chars());
                self.input = Input::new(value.into_iter().collect()).with_cursor(at + n);
                let lines = text.matches('\n').count();
                if lines > 0 {
                    self.say(
                        Level::Info,
                        format!(
                            "pasted {} lines: they are sent as one message, newlines kept (shown as ⏎)",
                            lines + 1
                        ),
                    );
                }
            }
            Focus::Find | Focus::Grep => {
                let value = format!("{}{}", self.search_input.value(), text.replace('\n', " "));
                self.search_input = Input::new(value);
            }
            Focus::Log => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent, ev: &TermEvent) -> Vec<Effect> {
        let k = Key::of(&key);
        if self.overlay.is_some() {
            return self.on_overlay_key(k);
        }
        if matches!(self.focus, Focus::Find | Focus::Grep) {
            self.on_prompt_key(k, ev);
            return Vec::new();
        }
        let in_fleet = self.opts.name.is_some();
        if let Some(act) = bindings::dashboard(&self.opts.keymap, k, self.opts.replay, in_fleet) {
            return self.act(act);
        }
        if self.focus == Focus::Input && self.input.handle_event(ev).is_some() {
            // Typing while paused is a moment to see the answer come in, not to stay put.
            return Vec::new();
        }
        self.hint(k);
        Vec::new()
    }

    fn on_overlay_key(&mut self, k: Key) -> Vec<Effect> {
        let page = self.log_rows.max(2) - 1;
        // Ctrl-C and F10 quit from anywhere; `q` only closes what is open.
        let quit = self.opts.keymap.lookup(k) == Some(Act::Quit);
        match &mut self.overlay {
            Some(Overlay::Quit(_)) => match k.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => self.quit = true,
                _ if quit => self.quit = true,
                _ => {
                    self.overlay = None;
                    self.say(Level::Info, "still watching");
                }
            },
            Some(Overlay::Help) => match k.code {
                _ if quit => self.request_quit(),
                KeyCode::Up | KeyCode::Char('k') => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                KeyCode::Down | KeyCode::Char('j') => self.help_scroll += 1,
                KeyCode::PageUp => self.help_scroll = self.help_scroll.saturating_sub(page),
                KeyCode::PageDown | KeyCode::Char(' ') => self.help_scroll += page,
                KeyCode::Home => self.help_scroll = 0,
                _ => {
                    self.overlay = None;
                    self.help_scroll = 0;
                }
            },
            Some(Overlay::Detail(d)) => match k.code {
                _ if quit => self.request_quit(),
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => self.overlay = None,
                KeyCode::Up | KeyCode::Char('k') => d.scroll = d.scroll.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => d.scroll += 1,
                KeyCode::PageUp => d.scroll = d.scroll.saturating_sub(page),
                KeyCode::PageDown | KeyCode::Char(' ') => d.scroll += page,
                KeyCode::Home | KeyCode::Char('g') => d.scroll = 0,
                KeyCode::End | KeyCode::Char('G') => d.scroll = usize::MAX / 2,
                KeyCode::Right | KeyCode::Char('n') => self.step_detail(false),
                KeyCode::Left | KeyCode::Char('p') => self.step_detail(true),
                KeyCode::Char('y') => return self.copy_detail(),
                _ => {}
            },
            None => {}
        }
        Vec::new()
    }

    fn on_prompt_key(&mut self, k: Key, ev: &TermEvent) {
        match k.code {
            KeyCode::Enter => {
                let q = self.search_input.value().to_string();
                let grep = self.focus == Focus::Grep;
                self.focus = self.rest_focus();
                if grep {
                    self.set_grep(q);
                } else {
                    self.start_search(q);
                }
            }
            KeyCode::Esc => self.focus = self.rest_focus(),
            _ => {
                self.search_input.handle_event(ev);
            }
        }
    }

    /// Where keys go when nothing is asked: the input line, or in a replay the log.
    pub(super) fn rest_focus(&self) -> Focus {
        if self.opts.replay {
            Focus::Log
        } else {
            Focus::Input
        }
    }

    fn act(&mut self, act: Act) -> Vec<Effect> {
        let page = self.log_rows.max(2) - 1;
        match act {
            Act::Quit => self.request_quit(),
            Act::Help => self.overlay = Some(Overlay::Help),
            Act::Submit if self.input.value().is_empty() => self.open_detail(),
            Act::Submit => return self.submit(),
            Act::HistoryOlder => {
                if let Some(line) = self.history.older(self.input.value()) {
                    self.input = Input::new(line.to_string());
                }
            }
            Act::HistoryNewer => {
                if let Some(line) = self.history.newer() {
                    self.input = Input::new(line.to_string());
                }
            }
            Act::Find if self.search.is_some() => self.search_step(true),
            Act::Find | Act::FindNew => self.prompt(Focus::Find),
            Act::OlderHit => self.search_step(true),
            Act::NewerHit => self.search_step(false),
            Act::Grep => self.prompt(Focus::Grep),
            Act::Filter => self.next_filter(),
            Act::Pings => {
                self.show_pings = !self.show_pings;
                let n = self.log.set_hidden(Quiet::Heartbeat, !self.show_pings);
                let key = self.opts.keymap.hint(Act::Pings);
                let what = if self.show_pings {
                    format!(
                        "heartbeat pings and pongs are shown in the log ({n} so far; {key} or /pings hides them)"
                    )
                } else {
                    format!(
                        "heartbeat pings and pongs are hidden ({n}; {key} or /pings shows them)"
                    )
                };
                self.say(Level::Info, what);
            }
            Act::AutoReplies => {
                self.show_autoreplies = !self.show_autoreplies;
                let n = self
                    .log
                    .set_hidden(Quiet::AutoReply, !self.show_autoreplies);
                let what = if self.show_autoreplies {
                    format!(
                        "automatic replies are shown in the log ({n} rows; /autoreplies hides them)"
                    )
                } else {
                    format!(
                        "automatic replies are hidden ({n} rows; the Traffic pane counts them; /autoreplies shows them)"
                    )
                };
                self.say(Level::Info, what);
            }
            Act::Files => self.open_files(),
            Act::Mouse => {
                self.mouse = !self.mouse;
                self.say(
                    Level::Info,
                    if self.mouse {
                        "mouse on: the wheel scrolls the log (Alt-M or /mouse: off, to select text)"
                    } else {
                        "mouse off: select text with the mouse as usual (Alt-M or /mouse: the wheel scrolls again)"
                    },
                );
                return vec![Effect::Mouse(self.mouse)];
            }
            Act::Copy => return self.copy_selected(),
            Act::Clear => self.clear_log(),
            Act::Complete => self.complete(),
            Act::LastFailure => self.open_last_failure(),
            Act::Up => self.scroll_up(1),
            Act::Down => self.scroll_down(1),
            Act::PageUp => self.scroll_up(page),
            Act::PageDown => self.scroll_down(page),
            Act::Oldest => self.scroll_home(),
            Act::Newest => self.follow(),
            Act::Detail => self.open_detail(),
            Act::Back => self.back(),
            Act::Ping => return self.ping(),
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

    fn prompt(&mut self, which: Focus) {
        let current = match which {
            Focus::Grep => self.grep.clone(),
            _ => self.search.clone(),
        };
        self.search_input = Input::new(current.unwrap_or_default());
        self.focus = which;
    }

    /// Esc: back to the live view in one press: no search, no text filter, following the
    /// newest (the kind filter stays: it is a choice, not a place).
    fn back(&mut self) {
        self.search = None;
        if self.grep.is_some() {
            self.set_grep(String::new());
        }
        self.follow();
    }

    /// Tab after `/`: completes the command's name as far as the commands that match agree;
    /// the list above the input line shows them.
    fn complete(&mut self) {
        let value = self.input.value().to_string();
        let Some(prefix) = value
            .strip_prefix('/')
            .filter(|p| !p.contains(char::is_whitespace))
        else {
            if !value.is_empty() {
                self.say(
                    Level::Info,
                    "Tab completes a /command; a message is sent as typed",
                );
            }
            return;
        };
        let found = Keymap::completions(prefix);
        let names: Vec<&str> = found
            .iter()
            .map(|a| {
                if a.name.starts_with(prefix) {
                    a.name
                } else {
                    a.aliases
                        .iter()
                        .find(|x| x.starts_with(prefix))
                        .copied()
                        .unwrap_or(a.name)
                }
            })
            .collect();
        let done = match names.as_slice() {
            [] => {
                self.say(
                    Level::Warn,
                    format!("no command starts with /{prefix}: /help lists them"),
                );
                return;
            }
            [one] => {
                let takes = found[0].args.is_empty();
                format!("/{one}{}", if takes { "" } else { " " })
            }
            many => {
                let common = many[1..].iter().fold(many[0].to_string(), |acc, n| {
                    acc.chars()
                        .zip(n.chars())
                        .take_while(|(a, b)| a == b)
                        .map(|(a, _)| a)
                        .collect()
                });
                format!("/{common}")
            }
        };
        self.input = Input::new(done);
    }

    /// A ping asked for: its ping and pong are shown in the log even with F9 off.
    pub(super) fn ping(&mut self) -> Vec<Effect> {
        if self.opts.replay {
            return Vec::new();
        }
        self.asked_ping = true;
        vec![Effect::Engine(Command::Ping)]
    }

    /// Quits, unless something would end with it: then asks first.
    pub(crate) fn request_quit(&mut self) {
        match self.what_quitting_ends() {
            Some(why) => self.overlay = Some(Overlay::Quit(why)),
            None => self.quit = true,
        }
    }

    /// What quitting now would end or lose, in words; `None` when nothing.
    pub(crate) fn what_quitting_ends(&self) -> Option<String> {
        if self.opts.replay {
            return None;
        }
        let mut what = Vec::new();
        if self.recording.is_some() {
            what.push("the recording stops (what it wrote is kept)".to_string());
        }
        let queued = self.stats().queued;
        if queued > 0 {
            what.push(format!(
                "{} waiting for the connection will not be sent",
                crate::text::counted(queued as u64, "queued message", "queued messages")
            ));
        }
        if !self.input.value().is_empty() {
            what.push("the line you typed is not sent".to_string());
        }
        (!what.is_empty()).then(|| what.join("; "))
    }

    fn submit(&mut self) -> Vec<Effect> {
        let line = self.input.value().to_string();
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
        match parse_line(line) {
            Action::Engine(Command::Ping) => self.ping(),
            Action::Engine(cmd) => {
                if matches!(cmd, Command::Send { .. }) {
                    // Sending is a moment to watch the answer come in.
                    self.follow();
                    if self.stats().state != ConnState::Open {
                        self.say(
                            Level::Warn,
                            "not connected: the message waits in the queue and goes out after the reconnect",
                        );
                    }
                }
                vec![Effect::Engine(cmd)]
            }
            Action::Broadcast(cmd) => {
                self.follow();
                vec![Effect::Broadcast(cmd)]
            }
            Action::Key(act) => self.act(act),
            Action::Find(q) => {
                self.start_search(q);
                Vec::new()
            }
            Action::Grep(q) => {
                self.set_grep(q);
                Vec::new()
            }
            Action::Filter(f) => {
                self.set_filter(f);
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

    /// Says why a key did nothing: it needs a live connection, or it is not a key here.
    fn hint(&mut self, k: Key) {
        if k.code == KeyCode::Esc || matches!(k.code, KeyCode::Modifier(_)) {
            return;
        }
        match (bindings::elsewhere(&self.opts.keymap, k), self.opts.replay) {
            (Some(what), true) => self.say(
                Level::Warn,
                format!("replay: there is no live connection ({what})"),
            ),
            (_, true) => self.say(
                Level::Info,
                format!("{} does nothing here: ? lists the keys", k.name()),
            ),
            (_, false) => self.say(
                Level::Info,
                format!(
                    "{} does nothing here: {} or /help lists the keys; type to write a message",
                    k.name(),
                    self.opts.keymap.hint(Act::Help)
                ),
            ),
        }
    }
}
