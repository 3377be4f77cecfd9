//! The one reader of recordings: lines in, a header, events, and the lines it had to skip
//! (with their numbers and why), for replay, report and the tests alike.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::time::SystemTime;

use super::schema::{Line, RecordHeader, decode_with_endpoint};
use crate::bounded::BoundedLine;

/// The longest line a recording may hold: a message of 64 MiB as base64 in JSON fits
/// four times over; a longer one is skipped without being held.
pub(crate) const MAX_LINE: usize = 512 << 20;
use crate::engine::Stamped;

/// What a line of a recording turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A `recording` header (one starts each recorded file, and each rotated part).
    Header {
        /// When the file was started.
        at: SystemTime,
        /// What was recorded.
        header: RecordHeader,
    },
    /// An event, with the endpoint it belongs to when the line names one.
    Event {
        /// The endpoint's name (headless output of a fleet).
        endpoint: Option<String>,
        /// The event.
        event: Stamped,
    },
    /// A line that could not be used.
    Skipped {
        /// Its 1-based number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads a recording line by line; blank lines are passed over, and after a read error the
/// rest of the file is skipped (reported once).
pub struct Reader<R> {
    input: R,
    number: u64,
    buf: Vec<u8>,
    done: bool,
}

impl Reader<BufReader<File>> {
    /// Opens a recording.
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Reader::new(BufReader::with_capacity(
            256 * 1024,
            File::open(path)?,
        )))
    }
}

impl<R: BufRead> Reader<R> {
    /// Reads recorded lines from `input`.
    pub fn new(input: R) -> Self {
        Reader {
            input,
            number: 0,
            buf: Vec::new(),
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            self.buf.clear();
            let read = match crate::bounded::read_line(&mut self.input, &mut self.buf, MAX_LINE) {
                Ok(BoundedLine::End) => return None,
                Ok(BoundedLine::Line) => self.buf.len(),
                Ok(BoundedLine::TooLong { len }) => {
                    self.number += 1;
                    return Some(Item::Skipped {
                        line: self.number,
                        reason: format!(
                            "{} long, over the {} a line may have; not read",
                            crate::text::bytes(len),
                            crate::text::bytes(MAX_LINE as u64)
                        ),
                    });
                }
                Err(e) => {
                    self.done = true;
                    return Some(Item::Skipped {
                        line: self.number + 1,
                        reason: format!("cannot be read ({e}); the rest of the file is skipped"),
                    });
                }
            };
            self.number += 1;
            let cut_short = read > 0 && self.buf.last() != Some(&b'\n');
            let line = match std::str::from_utf8(&self.buf) {
                Ok(l) => l.trim_end_matches(['\n', '\r']),
                Err(_) => {
                    return Some(Item::Skipped {
                        line: self.number,
                        reason: "not UTF-8 text".into(),
                    });
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            return Some(match decode_with_endpoint(line) {
                // A headless `pattern` or `health` line: what the reader works out itself.
                Ok((_, Line::Derived)) => continue,
                Ok((_, Line::Header(at, header))) => Item::Header { at, header },
                Ok((endpoint, Line::Event(event))) => Item::Event { endpoint, event },
                Err(e) => Item::Skipped {
                    line: self.number,
                    reason: if cut_short {
                        format!("{e} (the line is cut short)")
                    } else {
                        e
                    },
                },
            });
        }
        None
    }
}

/// The header of a recording, if it starts with one (looks at the first 100 lines).
pub(crate) fn header_of(path: &Path) -> io::Result<Option<RecordHeader>> {
    Ok(Reader::open(path)?
        .take(100)
        .find_map(|item| match item {
            Item::Header { header, .. } => Some(Some(header)),
            Item::Event { .. } => Some(None),
            Item::Skipped { .. } => None,
        })
        .flatten())
}

/// Lines looked at for a recording's first header or event before a file is refused.
const SNIFF_LINES: usize = 100;

/// Why a file is not a recording.
#[derive(Debug, thiserror::Error)]
pub enum NotRecording {
    /// The file cannot be opened or read.
    #[error("cannot open recording `{path}`: {error}")]
    Open {
        /// The file.
        path: String,
        /// What went wrong.
        error: io::Error,
    },
    /// The file is empty (or holds only blank lines).
    #[error(
        "`{path}` is empty: it is not a wsmon recording (make one with --record FILE, or F6 in the dashboard)"
    )]
    Empty {
        /// The file.
        path: String,
    },
    /// None of the first lines is a wsmon line.
    #[error(
        "`{path}` is not a wsmon recording: none of its first {looked} lines is a wsmon event (line {line}: {reason}); make one with --record FILE, or F6 in the dashboard"
    )]
    NotWsmon {
        /// The file.
        path: String,
        /// Lines looked at.
        looked: usize,
        /// The first bad line's number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Checks that `path` holds a recording: a header or an event among its first lines, so
/// that replay and report refuse an empty file or junk in one line instead of skipping it
/// line by line.
pub fn check_recording(path: &Path) -> Result<(), NotRecording> {
    let shown = crate::text::sanitize(&path.display().to_string());
    let reader = Reader::open(path).map_err(|error| NotRecording::Open {
        path: shown.clone(),
        error,
    })?;
    let mut first_bad: Option<(u64, String)> = None;
    let mut looked = 0;
    for item in reader.take(SNIFF_LINES) {
        looked += 1;
        match item {
            Item::Header { .. } | Item::Event { .. } => return Ok(()),
            Item::Skipped { line, reason } => {
                first_bad.get_or_insert((line, reason));
            }
        }
    }
    match first_bad {
        None => Err(NotRecording::Empty { path: shown }),
        Some((line, reason)) => Err(NotRecording::NotWsmon {
            path: shown,
            looked,
            line,
            reason: crate::text::sanitize(&crate::text::preview_text(reason.as_bytes(), 160)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_events_and_skipped_lines_are_told_apart() {
        let text = "\
{\"ts\":\"2026-11-25T17:00:00.000Z\",\"event\":\"recording\",\"tool\":\"wsmon\",\"url\":\"ws://h/\",\"headers\":{},\"subprotocols\":[],\"ping_interval_ms\":0,\"pong_timeout_ms\":0}

{\"ts\":\"2026-11-25T17:00:00.001Z\",\"event\":\"ping\",\"seq\":1}
{not json
{\"ts\":\"2026-11-25T17:00:00.002Z\",\"endpoint\":\"eu\",\"event\":\"peer_ping\"}
{\"ts\":\"2026-11-25T17:00:00.003Z\",\"event\":\"rtt\"";
        let items: Vec<Item> = Reader::new(text.as_bytes()).collect();
        assert!(matches!(&items[0], Item::Header { header, .. } if header.url == "ws://h/"));
        assert!(matches!(&items[1], Item::Event { endpoint: None, .. }));
        assert!(
            matches!(&items[2], Item::Skipped { line: 4, reason } if reason.starts_with("not valid JSON")),
            "{:?}",
            items[2]
        );
        assert!(matches!(&items[3], Item::Event { endpoint: Some(e), .. } if e == "eu"));
        assert!(
            matches!(&items[4], Item::Skipped { line: 6, reason } if reason.ends_with("(the line is cut short)")),
            "{:?}",
            items[4]
        );
        assert_eq!(items.len(), 5);
    }
}
