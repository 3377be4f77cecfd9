//! Engine events into log rows: one row per message, and the connection's story told in as
//! few rows as it takes (a retry joins the failure it follows; the same failure again counts).

use super::{App, Collapse};
use crate::describe;
use crate::engine::close_code::close_code_name;
use crate::engine::{ClosedBy, Dir, DropReason, Event, Stamped};
use crate::model::{Began, Period};
use crate::text;
use crate::tui::log::{Entry, Level, Origin, Quiet, Status};

impl App {
    /// A failure or drop: a row of its own, or, when the newest row is the same failure
    /// (dial after dial), that row counts it.
    fn failure_row(&mut self, at: std::time::SystemTime, level: Level, head: String, rest: String) {
        let newest = self.log.end_seq().checked_sub(1);
        if let Some(c) = &mut self.last_failure_row
            && Some(c.seq) == newest
            && c.head == head
        {
            c.times += 1;
            c.retry = None;
            c.rest = rest;
            let (seq, text) = (c.seq, c.text());
            self.log.rewrite(seq, text);
            return;
        }
        let c = Collapse {
            seq: 0,
            head,
            rest,
            times: 1,
            retry: None,
        };
        let seq = self.push(Entry::event(at, level, c.text()));
        self.last_failure_row = Some(Collapse { seq, ..c });
    }

    pub(super) fn log_event(&mut self, s: &Stamped) {
        let at = s.at;
        match &s.event {
            Event::Message(m) => {
                if m.dir == Dir::Out
                    && let Some(seq) = self.pending.remove(&m.id)
                {
                    // Sent after a wait: where and when it went out, on a row of its own.
                    let waited = self.log.get_mut(seq).map(|e| {
                        e.status = Status::SentLater;
                        at.duration_since(e.at()).unwrap_or_default()
                    });
                    let secs = waited.map_or(0, |w| w.as_secs().min(u64::from(u16::MAX)) as u16);
                    self.push(Entry::message(
                        at,
                        Origin::Out,
                        m.kind,
                        Status::Waited(secs),
                        m.id,
                        &m.data,
                    ));
                    self.sent_from_queue += 1;
                    return;
                }
                let origin = if m.dir == Dir::In {
                    Origin::In
                } else {
                    Origin::Out
                };
                self.push(Entry::message(
                    at,
                    origin,
                    m.kind,
                    Status::Plain,
                    m.id,
                    &m.data,
                ));
            }
            Event::Queued { id, kind, data, .. } => {
                let seq = self.push(Entry::message(
                    at,
                    Origin::Out,
                    *kind,
                    Status::Queued,
                    *id,
                    data,
                ));
                self.pending.insert(*id, seq);
            }
            Event::Dropped {
                id,
                kind,
                data,
                reason,
                ..
            } => {
                match self
                    .pending
                    .remove(id)
                    .and_then(|seq| self.log.get_mut(seq))
                {
                    Some(e) => e.status = Status::NotSent(*reason),
                    None => {
                        self.push(Entry::message(
                            at,
                            Origin::Out,
                            *kind,
                            Status::NotSent(*reason),
                            *id,
                            data,
                        ));
                    }
                }
                if *reason == DropReason::QueueFull {
                    self.say(
                        Level::Bad,
                        "send queue full: message not sent (raise send_queue)",
                    );
                } else if *reason == DropReason::TooLarge {
                    self.say(Level::Bad, "message larger than max_message_size: not sent");
                }
            }
            Event::Connecting { attempt, url } => {
                // Later attempts of an outage are on the failure rows (`next try in 2.4s (attempt 3)`).
                if *attempt <= 1 {
                    self.push(Entry::event(
                        at,
                        Level::Info,
                        format!("connecting to {url}"),
                    ));
                }
            }
            Event::Open(info) => {
                self.last_failure_row = None;
                let detail = describe::open_detail(info);
                // The outage this open ends, said once, in the timeline's words.
                let ended = match self.stats().timeline.periods().iter().rev().nth(1) {
                    Some(Period::Out(o)) if o.began != Began::Start => Some(o.clone()),
                    _ => None,
                };
                let text = match ended {
                    Some(o) => {
                        let (head, rest) = detail.split_once('\n').unwrap_or((&detail, ""));
                        let head = head.split(" after ").next().unwrap_or(head);
                        format!("{}; {head}\n{rest}", describe::outage(&o, at))
                    }
                    None => detail,
                };
                self.push(Entry::event(at, Level::Good, text));
            }
            Event::Closing { code, reason } => {
                let r = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                };
                self.push(Entry::event(
                    at,
                    Level::Info,
                    format!("closing: {code} {}{r}", close_code_name(*code)),
                ));
            }
            Event::Closed(c) => {
                let level = if c.by == ClosedBy::Client {
                    Level::Info
                } else {
                    Level::Bad
                };
                let text = format!("{} after {}", describe::close(c), text::duration(c.uptime));
                self.failure_row(at, level, text, String::new());
            }
            Event::Error(f) => {
                let mut text = describe::failure_detail(f);
                if f.http.is_some() {
                    // Did the token go out? The answer is in what was sent.
                    let h = &self.opts.header;
                    text.push_str(&describe::request_sent(&h.url, &h.headers, &h.subprotocols));
                }
                let (head, rest) = text.split_once('\n').unwrap_or((&text, ""));
                self.failure_row(at, Level::Bad, head.to_string(), rest.to_string());
            }
            Event::Retry { attempt, delay } => {
                let retry = format!("next try in {} (attempt {attempt})", text::duration(*delay));
                let newest = self.log.end_seq().checked_sub(1);
                match &mut self.last_failure_row {
                    Some(c) if Some(c.seq) == newest => {
                        c.retry = Some(retry);
                        let (seq, text) = (c.seq, c.text());
                        self.log.rewrite(seq, text);
                    }
                    _ => {
                        self.push(Entry::event(at, Level::Warn, retry));
                    }
                }
            }
            Event::GaveUp { attempts } => {
                let line = describe::gave_up(*attempts, self.stats());
                self.push(Entry::event(
                    at,
                    Level::Bad,
                    format!("{line}; type /reconnect to try again"),
                ));
            }
            Event::Unconfirmed { ids, count, resent } => {
                // Their rows say so: among the newest rows of what was sent.
                let mut left: std::collections::HashSet<u64> = ids.iter().copied().collect();
                let mut seq = self.log.end_seq();
                while !left.is_empty() && seq > self.log.first_seq() {
                    seq -= 1;
                    if let Some(e) = self.log.get_mut(seq)
                        && e.origin == Origin::Out
                        && left.remove(&e.id)
                    {
                        e.status = Status::Unconfirmed;
                    }
                }
                self.push(Entry::event(
                    at,
                    Level::Warn,
                    describe::unconfirmed(*count, *resent),
                ));
            }
            Event::Crashed(message) => {
                self.push(Entry::event(
                    at,
                    Level::Bad,
                    format!(
                        "wsmon's engine for this endpoint stopped: {message}. This is a bug: please report it with wsmon.log. The other endpoints go on."
                    ),
                ));
            }
            Event::Stopped(why) => {
                self.push(Entry::event(at, Level::Info, describe::stopped(*why)));
            }
            Event::Warning(w) => {
                if let Some(badge) = describe::warning_badge(w)
                    && !self.warnings.iter().any(|b| b == badge)
                {
                    self.warnings.push(badge.to_string());
                }
                self.push(Entry::event(at, Level::Warn, describe::warning(w)));
            }
            Event::AutoReply { received, sent, .. } => {
                // A run of the same answer is one line that counts the run, not a line each.
                let text = format!("auto-reply `{sent}` to `{received}`");
                let newest = self.log.end_seq().checked_sub(1);
                match &mut self.last_auto_reply {
                    Some((seq, last, run)) if Some(*seq) == newest && *last == text => {
                        *run += 1;
                        let line = format!("{text} ×{run}");
                        self.log.rewrite(*seq, line);
                    }
                    _ => {
                        let row = Entry::event(at, Level::Info, text.clone());
                        let seq = self.push(row.quiet(Quiet::AutoReply));
                        self.last_auto_reply = Some((seq, text, 1));
                    }
                }
            }
            Event::Ready {
                protocol,
                detail,
                offsets,
            } => {
                self.offsets = *offsets;
                self.push(Entry::event(
                    at,
                    Level::Good,
                    format!("{protocol}: {detail}"),
                ));
            }
            Event::Stale { silent } => {
                self.push(Entry::event(
                    at,
                    Level::Warn,
                    format!("stale: no data for {}", text::duration(*silent)),
                ));
            }
            Event::Fresh { silent } => {
                self.push(Entry::event(
                    at,
                    Level::Good,
                    format!(
                        "fresh: data again after {} of silence",
                        text::duration(*silent)
                    ),
                ));
            }
            // Heartbeat rows are kept hidden unless shown (F9): showing them shows those
            // already there. A ping asked for, and its pong, are always shown.
            Event::Ping { seq, app } => {
                let what = if *app {
                    format!(
                        "application ping sent: {}",
                        self.opts.app_ping.as_deref().unwrap_or("")
                    )
                } else {
                    format!("ping #{seq} sent")
                };
                let quiet = self.heartbeat_row(*app);
                self.push(Entry::event(at, Level::Info, what).quiet(quiet));
            }
            Event::Rtt { rtt, app } => {
                let quiet = self.heartbeat_row(*app);
                if !app {
                    self.asked_ping = false;
                }
                let what = if *app { "application pong" } else { "pong" };
                let row =
                    Entry::event(at, Level::Good, format!("{what} {} ms", text::millis(*rtt)));
                self.push(row.quiet(quiet));
            }
            Event::PeerPing => {
                let row = Entry::event(
                    at,
                    Level::Info,
                    "the peer pinged; answered with a pong".to_string(),
                );
                self.push(row.quiet(Quiet::Heartbeat));
            }
        }
    }
}

impl App {
    /// The group of a heartbeat row: hidden with the others, unless it is the ping asked for.
    fn heartbeat_row(&self, app: bool) -> Quiet {
        if self.asked_ping && !app {
            Quiet::Never
        } else {
            Quiet::Heartbeat
        }
    }
}

impl Collapse {
    /// The row's text: the failure, how many times, the retry; then its detail.
    fn text(&self) -> String {
        let mut out = self.head.clone();
        if self.times > 1 {
            out.push_str(&format!(" ×{}", self.times));
        }
        if let Some(r) = &self.retry {
            out.push_str(" · ");
            out.push_str(r);
        }
        if !self.rest.is_empty() {
            out.push('\n');
            out.push_str(&self.rest);
        }
        out
    }
}
