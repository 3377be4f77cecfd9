//! The lines printed after the screen is given back: what was watched, how it went, what was
//! recorded.

use super::app::{App, SavedFile, SavedKind};
use super::fleet::{self, FleetApp};
use crate::model::ConnState;
use crate::text;

/// What a recording wrote, in one line.
pub fn recording(s: &crate::record::RecordStatus) -> String {
    let mut line = format!(
        "wsmon: recorded {} ({}) to {}",
        text::counted(s.events, "event", "events"),
        text::bytes(s.bytes),
        s.path.display()
    );
    if s.lost > 0 {
        line.push_str(&format!(
            "; {} could not be written",
            text::counted(s.lost, "event", "events")
        ));
    }
    line
}
/// One line per file written: its full path and what it holds (a report's HTML page and a
/// recording's rotated parts each on a line of their own, so each path can be copied).
pub(crate) fn file_lines(files: &[SavedFile]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let p = f.path.display();
        match f.what {
            SavedKind::Recording { parts } => {
                out.push(format!("{p}  (recording)"));
                for i in 1..=parts {
                    out.push(format!("{p}.{i}  (recording, an older part)"));
                }
            }
            SavedKind::Report => {
                out.push(format!("{p}  (report, Markdown)"));
                out.push(format!(
                    "{}  (report, HTML)",
                    f.path.with_extension("html").display()
                ));
            }
        }
    }
    out
}

/// The exit summary's list of every file written: recordings (as they ended) and reports.
pub(crate) fn files_written(
    recordings: &[crate::record::RecordStatus],
    apps: &[&App],
) -> Vec<String> {
    let mut files: Vec<SavedFile> = recordings
        .iter()
        .map(|r| SavedFile {
            path: r.path.clone(),
            what: SavedKind::Recording { parts: r.parts },
        })
        .collect();
    for app in apps {
        for f in &app.files {
            if !files.iter().any(|g| g.path == f.path) {
                files.push(f.clone());
            }
        }
    }
    if files.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!(
        "wsmon: {} written in this session:",
        text::counted(file_lines(&files).len() as u64, "file", "files")
    )];
    lines.extend(file_lines(&files).into_iter().map(|l| format!("  {l}")));
    lines
}

/// One line printed after the screen is restored.
pub fn one(app: &App) -> String {
    format!(
        "wsmon: {}",
        crate::describe::session(app.stats(), &app.opts.url, app.now)
    )
}

/// Most endpoints named one by one in a fleet's summary.
const SUMMARY_ENDPOINTS: usize = 20;

/// The lines printed after a fleet's screen is restored: totals, then the endpoints that
/// dropped or are down, worst first.
pub(crate) fn for_fleet(fleet: &FleetApp) -> Vec<String> {
    let now = fleet.now;
    let c = fleet.counts();
    let (mut connects, mut drops, mut msgs_in, mut msgs_out) = (0, 0, 0, 0);
    for (_, a) in fleet.watched() {
        let s = a.stats();
        connects += s.connects;
        drops += s.drops;
        msgs_in += s.msgs_in;
        msgs_out += s.msgs_out;
    }
    let mut lines = vec![format!(
        "wsmon: watched {}: {} open{}, {} down, {} connecting at the end; {}, {}, {} in / {} out",
        text::counted(fleet.watched().count() as u64, "endpoint", "endpoints"),
        c.open,
        match c.sick {
            0 => String::new(),
            n => format!(" ({n} sick)"),
        },
        c.down,
        c.connecting,
        text::counted(connects, "connect", "connects"),
        text::counted(drops, "drop", "drops"),
        text::count(msgs_in),
        text::count(msgs_out)
    )];
    let mut troubled: Vec<usize> = (0..fleet.apps.len())
        .filter(|i| fleet.is_watched(*i))
        .filter(|i| {
            let s = fleet.apps[*i].stats();
            s.drops > 0 || s.state != ConnState::Open || s.stales > 0 || s.health(now).degraded()
        })
        .collect();
    troubled.sort_by_key(|i| (fleet::severity(&fleet.apps[*i]), fleet.name(*i).to_string()));
    for i in troubled.iter().take(SUMMARY_ENDPOINTS) {
        let s = fleet.apps[*i].stats();
        let avail = s
            .availability(now)
            .map(|a| format!(", {a:.2}% available"))
            .unwrap_or_default();
        let last = s
            .last_failure
            .as_ref()
            .map(|(_, what)| format!("; last failure: {}", crate::describe::trouble(what)))
            .unwrap_or_default();
        let stale = match s.stales {
            0 => String::new(),
            n => format!(", stale {n}×"),
        };
        let pattern = s
            .pattern(now)
            .map(|p| format!("; {}", crate::describe::pattern_short(&p)))
            .unwrap_or_default();
        lines.push(format!(
            "  {}: {} ({}), {}{stale}{avail}{pattern}{last}",
            fleet.name(*i),
            s.state.label(),
            crate::describe::health(s.health(now)),
            text::counted(s.drops, "drop", "drops")
        ));
    }
    if troubled.len() > SUMMARY_ENDPOINTS {
        lines.push(format!(
            "  and {} more that dropped or are down",
            troubled.len() - SUMMARY_ENDPOINTS
        ));
    }
    lines
}
