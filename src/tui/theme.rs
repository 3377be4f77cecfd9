//! Styles that read on dark and light backgrounds (the terminal's own named colours, no fixed
//! white or black text), and a monochrome set for `NO_COLOR` that uses only bold, dim,
//! reverse and underline.

use ratatui::style::{Color, Modifier, Style};

use super::log::Level;
use crate::model::ConnState;

/// The dashboard's styles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (https://no-color.org).
    pub(crate) fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    /// The colour theme.
    pub fn color() -> Theme {
        Theme { color: true }
    }

    /// The monochrome theme.
    pub fn mono() -> Theme {
        Theme { color: false }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The state badge in the title bar; an open connection that carries no data is
    /// not shown as healthy.
    pub fn badge(&self, state: &ConnState, sick: bool) -> Style {
        if !self.color {
            return Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        let bg = match state {
            ConnState::Open if sick => Color::Yellow,
            ConnState::Open => Color::Green,
            ConnState::Connecting { .. } | ConnState::Waiting { .. } | ConnState::Starting => {
                Color::Yellow
            }
            ConnState::Closing => Color::Cyan,
            ConnState::Closed | ConnState::GaveUp | ConnState::Crashed => Color::Red,
        };
        Style::new()
            .bg(bg)
            .fg(Color::Black)
            .add_modifier(Modifier::BOLD)
    }

    /// Text in a state's colour.
    pub fn state(&self, state: &ConnState) -> Style {
        match state {
            ConnState::Open => self.good(),
            ConnState::Closed | ConnState::GaveUp | ConnState::Crashed => self.bad(),
            _ => self.warn(),
        }
    }

    /// Pane titles.
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Borders and separators.
    pub(crate) fn border(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// Labels and secondary text; the foreground is reset so that dim text on a border
    /// (pane titles) is not dimmed twice.
    pub(crate) fn dim(&self) -> Style {
        Style::new().fg(Color::Reset).add_modifier(Modifier::DIM)
    }

    /// Values that matter.
    pub fn value(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Good news.
    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Attention.
    pub fn warn(&self) -> Style {
        if self.color {
            self.fg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// Failure.
    pub fn bad(&self) -> Style {
        if self.color {
            self.fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }

    /// An event row's style.
    pub fn level(&self, level: Level) -> Style {
        match level {
            Level::Info => self.fg(Color::Cyan),
            Level::Good => self.good(),
            Level::Warn => self.warn(),
            Level::Bad => self.bad(),
        }
    }

    /// The "in" direction.
    pub(crate) fn dir_in(&self) -> Style {
        self.fg(Color::Blue)
    }

    /// The "out" direction.
    pub(crate) fn dir_out(&self) -> Style {
        // Not magenta: on many palettes it is the red of failures.
        self.fg(Color::Cyan)
    }

    /// The selected log row.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// A search hit.
    pub fn hit(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Yellow).fg(Color::Black)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    /// An escaped control character.
    pub fn escaped(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::DIM)
    }

    /// Key names in the footer and help.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// A JSON token in the detail view: an object key, a string, a number, `true` `false`
    /// `null`, or punctuation.
    pub fn json(&self, token: JsonToken) -> Style {
        match token {
            JsonToken::Key => self.fg(Color::Cyan),
            JsonToken::Str => self.fg(Color::Green),
            JsonToken::Num => self.fg(Color::Yellow),
            JsonToken::Lit => self.fg(Color::Magenta),
            JsonToken::Punct => self.dim(),
        }
    }

    /// The RTT sparkline.
    pub(crate) fn spark(&self) -> Style {
        self.fg(Color::Green)
    }
}

/// What a piece of pretty-printed JSON is, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonToken {
    /// An object's key.
    Key,
    /// A string value.
    Str,
    /// A number.
    Num,
    /// `true`, `false`, `null`.
    Lit,
    /// Brackets, commas, colons.
    Punct,
}
