//! Where each pane goes, and drawing the whole dashboard as one widget.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Widget;

use super::app::{App, Overlay};
use super::panes;

/// The dashboard's regions for one terminal size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regions {
    /// State, URL, uptime, warnings.
    pub title: Rect,
    /// Connection, Reconnects, Uptime, Heartbeat & traffic; `None` when too small.
    pub panes: Option<[Rect; 4]>,
    /// A one-line summary used instead of the panes on small terminals.
    pub summary: Option<Rect>,
    /// The message log, including its title line.
    pub log: Rect,
    /// The input line.
    pub input: Rect,
    /// Key hints and status messages.
    pub footer: Rect,
}

impl Regions {
    /// Rows of log entries that fit.
    pub(crate) fn log_rows(&self) -> usize {
        self.log.height.saturating_sub(1) as usize
    }
}

/// Fewest log rows (its title apart) left when the panes or the footer grow.
const LOG_MIN: u16 = 6;

/// The regions for `app` now: a pane whose lines that matter (the last failure, the cause of
/// an outage, a pattern) need more rows gets them from the log, as does a footer notice too
/// long for one line.
pub fn layout(app: &App, area: Rect) -> Regions {
    let footer = panes::footer::rows_needed(app, area.width).max(1);
    let base = regions_with(area, 0, footer);
    let Some(p) = base.panes else { return base };
    let inner = p[0].height.saturating_sub(1);
    let want =
        panes::needed(&panes::connection::content(app), p[0].width as usize).max(panes::needed(
            &panes::reconnects::content(app, inner as usize),
            p[1].width as usize,
        )) as u16;
    if want <= inner {
        return base;
    }
    regions_with(area, want - inner, footer)
}

/// The regions with the first row of panes `extra` rows taller and `footer` rows of footer,
/// as far as the log keeps `LOG_MIN` rows.
fn regions_with(area: Rect, extra: u16, footer: u16) -> Regions {
    let footer = footer.min(area.height.saturating_sub(3) / 3).max(1);
    let [title, body, input, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(footer),
    ])
    .areas(area);
    let body_h = body.height;
    let (panes, summary, log) = if area.width >= 200 && body_h >= 16 {
        let lines = if body_h >= 34 { 6 } else { 4 };
        let extra = extra.min(body_h.saturating_sub(lines + 1 + LOG_MIN + 1));
        let [top, log] =
            Layout::vertical([Constraint::Length(lines + extra + 1), Constraint::Min(0)])
                .areas(body);
        let cols: [Rect; 4] = Layout::horizontal([Constraint::Ratio(1, 4); 4])
            .spacing(1)
            .areas(top);
        (Some(cols), None, log)
    } else if area.width >= 60 && body_h >= 14 {
        let lines = if body_h >= 36 { 5 } else { 3 };
        let extra = extra.min(body_h.saturating_sub(2 * (lines + 1) + LOG_MIN + 1));
        let [r1, r2, log] = Layout::vertical([
            Constraint::Length(lines + extra + 1),
            Constraint::Length(lines + 1),
            Constraint::Min(0),
        ])
        .areas(body);
        let [a, b]: [Rect; 2] = Layout::horizontal([Constraint::Ratio(1, 2); 2])
            .spacing(1)
            .areas(r1);
        let [c, d]: [Rect; 2] = Layout::horizontal([Constraint::Ratio(1, 2); 2])
            .spacing(1)
            .areas(r2);
        (Some([a, b, c, d]), None, log)
    } else {
        let [s, log] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        (None, Some(s), log)
    };
    Regions {
        title,
        panes,
        summary,
        log,
        input,
        footer,
    }
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let r = layout(self, area);
        panes::title::render(self, r.title, buf);
        if let Some([conn, reconnects, uptime, traffic]) = r.panes {
            panes::connection::render(self, conn, buf);
            panes::reconnects::render(self, reconnects, buf);
            panes::uptime::render(self, uptime, buf);
            panes::traffic::render(self, traffic, buf);
        }
        if let Some(s) = r.summary {
            panes::traffic::render_summary(self, s, buf);
        }
        panes::log::render(self, r.log, buf);
        panes::input::render(self, r.input, buf);
        panes::commands::render(self, r.log, buf);
        panes::footer::render(self, r.footer, buf);
        match &self.overlay {
            Some(Overlay::Help) => panes::help::render(self, area, buf),
            Some(Overlay::Detail(d)) => panes::detail::render(self, d, area, buf),
            Some(Overlay::Quit(why)) => panes::confirm::render(&self.opts.theme, why, area, buf),
            None => {}
        }
    }
}
