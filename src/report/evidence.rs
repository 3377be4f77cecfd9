//! The report's evidence, after the verdict and the outages: the last failure in full, the
//! connection and its TLS, each connection's dial timings, the round trips, the drops by
//! culprit, and (when asked for) the last messages.

use std::time::{Duration, SystemTime};

use super::build::dur;
use super::document::{Block, Chart};
use super::{ReportBuilder, TailMessage};
use crate::describe;
use crate::engine::close_code::close_code_name;
use crate::engine::{Dir, Kind};
use crate::model::{Connection, Culprit, Period, Step, Trouble, dial_time};
use crate::text;

/// Connections shown with their dial timings.
const CONNECTIONS_SHOWN: usize = 20;

/// The last failure in full: its HTTP answer (status, headers, body) when it had one, then
/// the older refused handshakes.
pub(super) fn last_failure(b: &ReportBuilder) -> Vec<Block> {
    let s = &b.stats;
    let Some((at, what)) = &s.last_failure else {
        return Vec::new();
    };
    let mut blocks = vec![
        Block::Heading(3, "Last failure".into()),
        Block::Text(format!(
            "{} at {}",
            describe::trouble(what),
            text::timestamp(*at)
        )),
    ];
    if let Trouble::Failed(f) = what {
        blocks.push(Block::List(vec![
            format!("cause: {}, in the {}", f.cause, describe::phase(f.phase)),
            format!("message: {}", crate::describe::message(f)),
        ]));
    }
    let mut shown: Vec<&crate::engine::HttpFailure> = Vec::new();
    for (at, h, message) in b.http.iter().rev() {
        // The same refusal again says nothing new.
        if shown
            .iter()
            .any(|s| s.status == h.status && s.body == h.body && s.headers.len() == h.headers.len())
        {
            continue;
        }
        shown.push(h);
        blocks.push(Block::Text(format!(
            "{} · HTTP {} {}: {message}",
            text::timestamp(*at),
            h.status,
            h.reason
        )));
        let mut answer = format!("HTTP/1.1 {} {}\n", h.status, h.reason);
        for (n, v) in &h.headers {
            answer.push_str(&format!("{}: {v}\n", title_case(n)));
        }
        answer.push('\n');
        answer.push_str(&String::from_utf8_lossy(&h.body));
        if h.body_truncated {
            answer.push_str("\n[body cut at 4 KiB]");
        }
        blocks.push(Block::Pre(answer));
    }
    blocks
}

pub(super) fn connection(b: &ReportBuilder, now: SystemTime) -> Vec<Block> {
    let h = &b.header;
    let mut items = vec![format!("URL: {}", h.url)];
    if h.headers.is_empty() {
        items.push("request headers: none beyond the handshake".into());
    } else {
        for (n, v) in &h.headers {
            items.push(format!("request header (secret values masked): {n}: {v}"));
        }
    }
    if !h.subprotocols.is_empty() {
        items.push(format!(
            "subprotocols offered: {}",
            h.subprotocols.join(", ")
        ));
    }
    items.push(if h.ping_interval_ms > 0 {
        format!(
            "heartbeat: a ping every {}, dead after {} without an answer",
            dur(Duration::from_millis(h.ping_interval_ms)),
            dur(Duration::from_millis(h.pong_timeout_ms))
        )
    } else {
        "heartbeat: off".into()
    });
    if let Some(p) = &h.preset {
        items.push(format!("application protocol: {p}"));
    }
    if let Some(ping) = &h.app_ping {
        items.push(format!("application heartbeat: {ping} every ping interval"));
    }
    if let Some(o) = &b.stats.last_open {
        items.push(format!(
            "last connected to {}{} ({}{})",
            o.remote,
            o.proxy
                .as_ref()
                .map(|p| format!(" through proxy {p}"))
                .unwrap_or_default(),
            o.tls_version.unwrap_or("plain ws, no TLS"),
            o.subprotocol
                .as_ref()
                .map(|p| format!(", subprotocol {p}"))
                .unwrap_or_default()
        ));
        if let Some(c) = &o.cert {
            items.push(format!(
                "server certificate: {}, issued by {}, valid until {} ({} at this report){}; SHA-256 {}",
                c.subject,
                c.issuer,
                crate::text::unix_date(c.not_after),
                crate::describe::cert_expiry(c, now),
                if c.names.is_empty() {
                    String::new()
                } else {
                    format!(", for {}", c.names.join(", "))
                },
                c.sha256
            ));
        }
    }
    if let Some(f) = &b.stats.last_error
        && !f.chain.is_empty()
    {
        for (i, c) in f.chain.iter().enumerate() {
            items.push(format!(
                "refused certificate {} of {}: {}, issued by {}, valid {} to {}{}; SHA-256 {}",
                i + 1,
                f.chain.len(),
                c.subject,
                c.issuer,
                crate::text::unix_date(c.not_before),
                crate::text::unix_date(c.not_after),
                if c.names.is_empty() {
                    String::new()
                } else {
                    format!(", for {}", c.names.join(", "))
                },
                c.sha256
            ));
        }
    }
    vec![
        Block::Heading(3, "Connection and TLS".into()),
        Block::List(items),
    ]
}

/// The last connections with their dial timings, and who ended each.
pub(super) fn connections(b: &ReportBuilder) -> Vec<Block> {
    let ups: Vec<&Connection> = b
        .stats
        .timeline
        .periods()
        .iter()
        .filter_map(|p| match p {
            Period::Up(c) => Some(c),
            Period::Out(_) => None,
        })
        .collect();
    if ups.is_empty() {
        return Vec::new();
    }
    let shown = &ups[ups.len().saturating_sub(CONNECTIONS_SHOWN)..];
    let mut blocks = vec![Block::Heading(3, "Connections and dial timings".into())];
    if shown.len() < ups.len() {
        blocks.push(Block::Text(format!(
            "The last {} of {} connections kept.",
            shown.len(),
            ups.len()
        )));
    }
    let rows = shown
        .iter()
        .map(|c| {
            let p = &c.info.phases;
            vec![
                text::clock(c.at),
                c.info.attempt.to_string(),
                c.info.remote.to_string(),
                text::millis(p.dns),
                text::millis(p.tcp),
                p.tls.map(text::millis).unwrap_or_else(|| "—".into()),
                text::millis(p.handshake),
                text::millis(dial_time(&c.info)),
                match &c.end {
                    Some(e) => format!(
                        "{} after {}",
                        describe::culprit_long(e.culprit),
                        dur(e.close.uptime)
                    ),
                    None => "open".into(),
                },
            ]
        })
        .collect();
    blocks.push(Block::Table {
        head: vec![
            "opened (UTC)",
            "attempt",
            "remote",
            "DNS ms",
            "TCP ms",
            "TLS ms",
            "upgrade ms",
            "total ms",
            "ended",
        ],
        rows,
    });
    blocks
}

pub(super) fn rtt(b: &ReportBuilder, now: SystemTime) -> Vec<Block> {
    let s = &b.stats;
    let mut blocks = vec![Block::Heading(3, "Round-trip time".into())];
    let r = &s.rtt;
    let ms = |d: Option<Duration>| d.map(text::millis).unwrap_or_else(|| "—".into());
    if r.count == 0 {
        blocks.push(Block::Text(
            "No RTT samples (the heartbeat was off, or no pong came back).".into(),
        ));
    } else {
        let [p50, p95, p99] = r.percentiles([50.0, 95.0, 99.0]);
        blocks.push(Block::Table {
            head: vec!["samples", "last", "min", "p50", "p95", "p99", "max", "avg"],
            rows: vec![vec![
                r.count.to_string(),
                ms(r.last),
                ms(r.min),
                ms(p50),
                ms(p95),
                ms(p99),
                ms(r.max),
                ms(r.avg()),
            ]],
        });
        let recent: Vec<Duration> = r.recent(crate::model::SPARK_LEN).collect();
        blocks.push(Block::Text(format!(
            "All values in ms, from when a ping was written to when its pong was read. The last {} samples, oldest first:",
            recent.len()
        )));
        blocks.push(Block::Pre(super::sparkline(&recent)));
        if let Some(from) = s.started {
            blocks.push(Block::Chart(Chart::Rtt {
                from,
                to: now,
                points: b
                    .rtt_points()
                    .iter()
                    .map(|(at, d)| (*at, d.as_secs_f64() * 1000.0))
                    .collect(),
            }));
        }
    }
    let a = &s.app_rtt;
    if a.count > 0 {
        let [p50, p99] = a.percentiles([50.0, 99.0]);
        blocks.push(Block::Text(
            "Application heartbeat (app_ping to app_pong), in ms:".into(),
        ));
        blocks.push(Block::Table {
            head: vec!["samples", "last", "min", "p50", "p99", "max"],
            rows: vec![vec![
                a.count.to_string(),
                ms(a.last),
                ms(a.min),
                ms(p50),
                ms(p99),
                ms(a.max),
            ]],
        });
    }
    blocks
}

/// Drops by who ended them, with what each code means.
pub(super) fn closes(b: &ReportBuilder) -> Vec<Block> {
    let s = &b.stats;
    let mut blocks = vec![Block::Heading(3, "Drops by culprit".into())];
    if s.drops_by.0.is_empty() {
        blocks.push(Block::Text("No connection dropped.".into()));
        return blocks;
    }
    let rows = s
        .drops_by
        .0
        .iter()
        .filter_map(|(step, n)| match step {
            Step::Dropped(c) => Some((c, n)),
            Step::Failed { .. } => None,
        })
        .map(|(c, n)| {
            let (who, code, meaning) = match *c {
                Culprit::Server { code: Some(code) } => (
                    "the server",
                    code.to_string(),
                    close_code_name(code).to_string(),
                ),
                Culprit::Server { code: None } => (
                    "the server",
                    "—".into(),
                    "a close frame without a code".into(),
                ),
                Culprit::ServerProtocol => (
                    "the server",
                    "—".into(),
                    "broke the protocol; wsmon closed".into(),
                ),
                Culprit::Wsmon(v) => ("wsmon", "—".into(), describe::verdict(v).into()),
                Culprit::Abrupt => (
                    "no close frame",
                    "1006".into(),
                    "the TCP connection ended: the server's process, or the path".into(),
                ),
                Culprit::User => ("you", "—".into(), "closed by you".into()),
            };
            vec![who.to_string(), code, meaning, n.to_string()]
        })
        .collect();
    blocks.push(Block::Table {
        head: vec!["ended by", "code", "meaning", "count"],
        rows,
    });
    blocks
}

pub(super) fn messages(tail: Option<&[TailMessage<'_>]>) -> Vec<Block> {
    let Some(tail) = tail else {
        return vec![Block::Text(
            "Message payloads are left out, since a report gets pasted where the data may not belong; `wsmon report --payloads` puts the last 50 in."
                .into(),
        )];
    };
    let tail = &tail[tail.len().saturating_sub(super::MESSAGES_KEPT)..];
    let mut blocks = vec![Block::Heading(2, format!("Last {} messages", tail.len()))];
    if tail.is_empty() {
        blocks.push(Block::Text("No messages.".into()));
        return blocks;
    }
    let mut lines = String::new();
    for m in tail {
        let dir = if m.dir == Dir::In { "in " } else { "out" };
        let body = match m.kind {
            Kind::Text => text::preview_text(m.data, 400).into_owned(),
            Kind::Binary => text::preview_hex(m.data, 32),
        };
        let more = if m.data.len() > 400 { " …" } else { "" };
        lines.push_str(&format!(
            "{} {dir} {} {:>7} {body}{more}\n",
            text::clock_millis(m.at),
            if m.kind == Kind::Text { "txt" } else { "bin" },
            text::bytes(m.data.len() as u64)
        ));
    }
    blocks.push(Block::Pre(lines));
    blocks
}

/// A header name as HTTP/1.1 writes it (`content-type` is `Content-Type`): the same whether
/// the answer came live or from a recording, which keeps names in lower case.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}
