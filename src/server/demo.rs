//! The `--demo` scenario: a lively peer with ticks, JSON quotes, binary frames, notices,
//! a drop every half minute and the occasional refused reconnect.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Every fourth connection is refused with 503 and `Retry-After`, to show an HTTP failure.
pub(super) fn reject_for(n: u64) -> Option<u16> {
    (n % 4 == 3).then_some(503)
}

/// What one demo connection sends, and when.
pub(super) struct Scenario {
    n: u64,
    seq: u64,
    // Offsets from the start of the connection of the next tick, quote, binary frame and notice.
    next: [Duration; 4],
    hello_sent: bool,
}

const TICK: usize = 0;
const QUOTE: usize = 1;
const BINARY: usize = 2;
const PERIOD: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_millis(2500),
    Duration::from_secs(7),
    Duration::from_secs(11),
];

impl Scenario {
    pub(super) fn new(n: u64) -> Self {
        Scenario {
            n,
            seq: 0,
            next: [
                Duration::ZERO,
                Duration::from_millis(1200),
                Duration::from_secs(4),
                Duration::from_secs(6),
            ],
            hello_sent: false,
        }
    }

    /// The connection lasts 25 to 35 s.
    pub(super) fn drop_after(&self) -> Duration {
        Duration::from_secs(25 + (self.n * 7) % 11)
    }

    /// Drops rotate through a restart, a going-away, an abrupt loss and an application code.
    pub(super) fn drop_code(&self) -> Option<u16> {
        match self.n % 4 {
            1 => Some(1012),
            2 => Some(1001),
            0 => None,
            _ => Some(4000),
        }
    }

    pub(super) fn next_at(&self, start: Instant) -> Instant {
        start + *self.next.iter().min().expect("four timers")
    }

    pub(super) fn due(&mut self, start: Instant) -> Vec<Message> {
        let elapsed = start.elapsed();
        let mut out = Vec::new();
        if !self.hello_sent {
            self.hello_sent = true;
            out.push(Message::Text(
                format!(
                    "{{\"type\":\"hello\",\"server\":\"wsmon demo\",\"session\":{},\"note\":\"type a message and press Enter; it is echoed back\"}}",
                    self.n
                )
                .into(),
            ));
        }
        let due: Vec<usize> = (0..self.next.len())
            .filter(|&k| self.next[k] <= elapsed)
            .collect();
        for kind in due {
            self.next[kind] += PERIOD[kind];
            self.seq += 1;
            let ts = crate::text::timestamp(SystemTime::now());
            let s = self.seq;
            out.push(match kind {
                TICK => Message::Text(format!("{{\"type\":\"tick\",\"seq\":{s},\"ts\":\"{ts}\"}}").into()),
                QUOTE => {
                    let bid = 100.0 + ((s * 37) % 200) as f64 / 100.0;
                    Message::Text(
                        format!(
                            "{{\"type\":\"quote\",\"symbol\":\"WSM\",\"bid\":{bid:.2},\"ask\":{:.2},\"size\":{},\"venue\":{{\"name\":\"demo\",\"region\":\"eu-west\"}},\"ts\":\"{ts}\"}}",
                            bid + 0.05,
                            100 + (s * 13) % 900
                        )
                        .into(),
                    )
                }
                BINARY => {
                    let mut frame = vec![0xC0, 0xFF, 0xEE, 0x01];
                    frame.extend_from_slice(&s.to_be_bytes());
                    frame.extend((0..20u8).map(|i| i.wrapping_mul(17).wrapping_add(s as u8)));
                    Message::Binary(frame.into())
                }
                _ => Message::Text(
                    format!(
                        "server notice {s}: all systems nominal; you are connection #{} of this demo server",
                        self.n
                    )
                    .into(),
                ),
            });
        }
        out
    }

    /// Echoes what the user typed; `help` gets a hint.
    pub(super) fn reply(&mut self, text: &str) -> Option<Message> {
        if text.trim() == "help" {
            return Some(Message::Text(
                "demo server: every message is echoed; the connection drops every ~30s to show reconnects".into(),
            ));
        }
        Some(Message::Text(text.into()))
    }
}
