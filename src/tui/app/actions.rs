//! What the keys and `/commands` do to the log view: filters, the detail view's stepping,
//! copying, the last failure.

use base64::Engine as _;

use super::{App, Detail, Effect, Overlay, SavedFile, SavedKind, detail_of};
use crate::keymap::Act;
use crate::text;
use crate::tui::log::{Level, Origin};

/// Most bytes a copy sends to the terminal's clipboard (terminals refuse larger OSC 52).
const COPY_MAX: usize = 100 << 10;

impl App {
    /// The next filter by kind (`F2`).
    pub(super) fn next_filter(&mut self) {
        self.set_filter(self.filter.next());
    }

    /// Shows one kind of row (`/filter in`).
    pub(super) fn set_filter(&mut self, f: crate::tui::log::Filter) {
        self.filter = f;
        self.keep_selection_shown();
        let label = self.filter.label();
        self.say(Level::Info, format!("showing {label}"));
    }

    /// Shows only the rows containing `text`; an empty text shows every row again.
    pub(super) fn set_grep(&mut self, text: String) {
        let text = (!text.is_empty()).then_some(text);
        self.log.set_grep(text.as_deref());
        self.grep = text;
        self.keep_selection_shown();
        match &self.grep {
            Some(g) => {
                let n = self.log.shown_count(self.filter) as u64;
                self.say(
                    if n == 0 { Level::Warn } else { Level::Info },
                    format!(
                        "{} contain `{}` (Esc shows every row)",
                        text::counted(n, "row", "rows"),
                        text::sanitize(g)
                    ),
                );
            }
            None => self.say(Level::Info, "every row is shown again"),
        }
    }

    /// After the filters changed: the selected row must still be shown, or the nearest one.
    fn keep_selection_shown(&mut self) {
        if let Some(sel) = self.selected {
            let shown = self.log.get(sel).is_some()
                && self.log.count_between(sel, sel + 1, self.filter) == 1;
            if !shown {
                let near = self
                    .log
                    .prev(sel, self.filter)
                    .or_else(|| self.log.next(sel, self.filter));
                match near {
                    Some(s) => self.selected = Some(s),
                    None => self.follow(),
                }
            }
        }
        self.view_top = self.selected.unwrap_or(self.view_top);
    }

    /// Empties the log view (`/clear`); the counters keep counting.
    pub(super) fn clear_log(&mut self) {
        self.log.clear();
        self.pending.clear();
        self.follow();
        self.view_top = self.log.first_seq();
        self.say(Level::Info, "log cleared; counters keep counting");
    }

    /// In the detail view: the previous (older) or next shown entry, selected as well.
    pub(super) fn step_detail(&mut self, older: bool) {
        let Some(Overlay::Detail(d)) = &self.overlay else {
            return;
        };
        if d.seq == u64::MAX {
            // The list of files is no row of the log.
            return;
        }
        let to = if older {
            self.log.prev(d.seq, self.filter)
        } else {
            self.log.next(d.seq, self.filter)
        };
        match to.and_then(|seq| self.log.get(seq).map(|e| (seq, e))) {
            Some((seq, e)) => {
                self.overlay = Some(Overlay::Detail(detail_of(
                    seq,
                    e,
                    self.opts.preset,
                    self.offsets,
                )));
                self.select(Some(seq));
            }
            None => self.say(
                Level::Info,
                if older {
                    "this is the oldest row shown"
                } else {
                    "this is the newest row"
                },
            ),
        }
    }

    /// Copies the entry the detail view shows.
    pub(super) fn copy_detail(&mut self) -> Vec<Effect> {
        let Some(Overlay::Detail(d)) = &self.overlay else {
            return Vec::new();
        };
        let seq = d.seq;
        self.copy(seq)
    }

    /// Copies the selected entry (or the newest when following).
    pub(super) fn copy_selected(&mut self) -> Vec<Effect> {
        match self.cursor() {
            Some(seq) => self.copy(seq),
            None => {
                self.say(Level::Info, "the log is empty: nothing to copy");
                Vec::new()
            }
        }
    }

    /// The payload of an entry to the terminal's clipboard, by OSC 52 (which works over SSH
    /// and in tmux with `set-clipboard on`): binary as hex.
    fn copy(&mut self, seq: u64) -> Vec<Effect> {
        let Some(e) = self.log.get(seq) else {
            return Vec::new();
        };
        let body: Vec<u8> = if e.kind == crate::engine::Kind::Binary && e.origin != Origin::Event {
            e.data
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into_bytes()
        } else {
            e.data.to_vec()
        };
        let cut = body.len() > COPY_MAX;
        let body = &body[..body.len().min(COPY_MAX)];
        let osc = format!(
            "\x1b]52;c;{}\x07",
            base64::engine::general_purpose::STANDARD.encode(body)
        );
        let what = text::bytes(body.len() as u64);
        self.say(
            Level::Good,
            if cut {
                format!("copied the first {what} to the clipboard (terminals refuse more)")
            } else {
                format!("copied {what} to the clipboard (your terminal must allow OSC 52)")
            },
        );
        vec![Effect::Copy(osc)]
    }

    /// Opens the newest failure in full (`F8`): a retry line is seldom what one wants.
    pub(super) fn open_last_failure(&mut self) {
        // Whatever the filters show: the failure is what was asked for.
        let last = (self.log.first_seq()..self.log.end_seq())
            .rev()
            .find(|seq| {
                self.log
                    .get(*seq)
                    .is_some_and(|e| e.origin == Origin::Event && e.level == Level::Bad)
            });
        match last.and_then(|seq| self.log.get(seq).map(|e| (seq, e))) {
            Some((seq, e)) => {
                self.overlay = Some(Overlay::Detail(detail_of(
                    seq,
                    e,
                    self.opts.preset,
                    self.offsets,
                )));
                if self.filter.matches(e) {
                    self.select(Some(seq));
                }
            }
            None => self.say(Level::Good, "no failure in the log"),
        }
    }

    /// Notes a file written in this session (a recording stopped, a report written).
    pub(crate) fn saved(&mut self, file: SavedFile) {
        match self.files.iter_mut().find(|f| f.path == file.path) {
            Some(f) => *f = file,
            None => self.files.push(file),
        }
    }

    /// Every file written in this session, the recording being written included.
    pub fn written(&self) -> Vec<SavedFile> {
        let mut out = self.files.clone();
        if let Some(r) = &self.recording
            && !out.iter().any(|f| f.path == r.path)
        {
            out.push(SavedFile {
                path: r.path.clone(),
                what: SavedKind::Recording { parts: r.parts },
            });
        }
        out
    }

    /// `/files`: the files written in this session, with full paths, in a view of their own
    /// (a path is never cut there; the terminal can select it with the mouse off).
    pub(super) fn open_files(&mut self) {
        let files = self.written();
        if files.is_empty() {
            self.say(
                Level::Info,
                format!(
                    "no files written yet: {} records, {} writes the report",
                    self.opts.keymap.hint(Act::Record),
                    self.opts.keymap.hint(Act::Report)
                ),
            );
            return;
        }
        let lines = crate::tui::summary::file_lines(&files);
        self.overlay = Some(Overlay::Detail(Detail {
            seq: u64::MAX,
            title: format!(
                "{} written in this session",
                text::counted(lines.len() as u64, "file", "files")
            ),
            format: "files",
            body: text::sanitize_multiline(&lines.join("\n")),
            scroll: 0,
        }));
    }
}
