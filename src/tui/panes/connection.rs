//! Connection: where we are connected, how, how long the last connect took, and the last failure.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::{Row, frame, labeled, rows, span};
use crate::model::ConnState;
use crate::text;
use crate::tui::app::App;

/// A certificate with fewer days left than this is shown in the warning colour.
const CERT_WARN_DAYS: i64 = 14;

/// Draws the pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let inner = frame(&app.opts.theme, "Connection", area, buf);
    rows(content(app), inner, buf);
}

/// The pane's lines; the last failure is whole (it wraps rather than being cut).
pub fn content(app: &App) -> Vec<Row<'static>> {
    let t = &app.opts.theme;
    let s = &app.stats();
    let mut out: Vec<Row> = Vec::new();
    // A dial that failed after reaching the server keeps its address and timings in view.
    let reached = s
        .last_error
        .as_ref()
        .filter(|_| s.state != ConnState::Open)
        .and_then(|f| f.reached.as_ref().map(|r| (f, r)));
    match (&s.last_open, reached) {
        (_, Some((f, r))) => {
            let v = vec![
                span(r.remote.to_string(), t.value()),
                span(" reached", t.dim()),
            ];
            out.push(labeled(t, "remote", v).into());
            let failed = match f.phase {
                crate::engine::Phase::Tls => "TLS",
                crate::engine::Phase::Proxy => "proxy",
                crate::engine::Phase::Upgrade => "upgrade",
                _ => "it",
            };
            let v = vec![
                span(crate::describe::phases_done(&r.phases), t.value()),
                span(format!(" ✗ {failed}"), t.bad()),
            ];
            out.push(labeled(t, "connect", v).into());
        }
        (Some(info), None) => {
            let mut v = vec![span(info.remote.to_string(), t.value())];
            if info.proxy.is_some() {
                v.push(span(" via proxy", t.dim()));
            }
            v.push(span(" ", t.dim()));
            v.push(span(info.tls_version.unwrap_or("plain"), t.value()));
            if let Some(p) = &info.subprotocol {
                v.push(span(" ", t.dim()));
                v.push(span(text::sanitize(p), t.value()));
            }
            out.push(labeled(t, "remote", v).into());
            let p = &info.phases;
            let mut v = vec![span("dns ", t.dim()), span(text::millis(p.dns), t.value())];
            v.extend([span(" tcp ", t.dim()), span(text::millis(p.tcp), t.value())]);
            if let Some(px) = p.proxy {
                v.extend([span(" proxy ", t.dim()), span(text::millis(px), t.value())]);
            }
            if let Some(tls) = p.tls {
                v.extend([span(" tls ", t.dim()), span(text::millis(tls), t.value())]);
            }
            v.extend([
                span(" upg ", t.dim()),
                span(text::millis(p.handshake), t.value()),
                span(" ms", t.dim()),
            ]);
            out.push(labeled(t, "connect", v).into());
            if let Some(c) = &info.cert {
                // Days first: a cut line still says how long the certificate has.
                let now = app
                    .now
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                let style = if c.days_left(now) < CERT_WARN_DAYS {
                    t.warn()
                } else {
                    t.value()
                };
                out.push(
                    labeled(
                        t,
                        "cert",
                        vec![
                            span(crate::describe::cert_expiry(c, app.now), style),
                            span(format!(" · {}", text::sanitize(&c.subject)), t.value()),
                            span(format!(" · by {}", text::sanitize(&c.issuer)), t.dim()),
                        ],
                    )
                    .into(),
                );
            }
        }
        (None, None) => {
            out.push(labeled(t, "remote", vec![span("not connected yet", t.dim())]).into());
            out.push(labeled(t, "connect", vec![span("—", t.dim())]).into());
        }
    }
    match &s.last_failure {
        Some((at, what)) => out.push(Row::whole_then(
            labeled(
                t,
                "last",
                vec![span(
                    text::sanitize(&crate::describe::trouble(what)),
                    t.bad(),
                )],
            ),
            // Kept whole when it fits, left out when it does not: `(931ms ago)`.
            vec![span(
                format!(
                    " ({}\u{a0}ago)",
                    text::duration(app.now.duration_since(*at).unwrap_or_default())
                ),
                t.dim(),
            )],
        )),
        None => out.push(Row::whole(labeled(
            t,
            "last",
            vec![span("no failures", t.good())],
        ))),
    }
    // The fix, when wsmon knows one, on the line below the verdict.
    if let (Some((_, crate::model::Trouble::Failed(_))), Some(f)) = (&s.last_failure, &s.last_error)
        && let Some(advice) = crate::describe::fix(f)
    {
        out.push(Row::whole(labeled(
            t,
            "fix",
            vec![span(text::sanitize(&advice), t.warn())],
        )));
    }
    if let Some(preset) = app.opts.preset {
        let v = match (&s.ready, &s.state) {
            (Some((protocol, detail)), _) => vec![
                span(format!("{protocol} "), t.value()),
                span(text::sanitize(detail), t.dim()),
            ],
            (None, ConnState::Open) => vec![span(
                format!("{}: handshake not complete yet", preset.name()),
                t.warn(),
            )],
            (None, _) => vec![span(
                format!("{} after the next open", preset.name()),
                t.dim(),
            )],
        };
        out.push(labeled(t, "app", v).into());
    }
    out.push(
        labeled(
            t,
            "url",
            vec![span(text::sanitize(&app.opts.url), t.value())],
        )
        .into(),
    );
    if let Some(e) = &s.last_error
        && let Some(h) = &e.http
    {
        out.push(
            labeled(
                t,
                "http",
                vec![Span::styled(
                    format!(
                        "{} {} · {} shows the headers and body",
                        h.status,
                        h.reason,
                        app.opts.keymap.hint(crate::keymap::Act::LastFailure)
                    ),
                    t.dim(),
                )],
            )
            .into(),
        );
    }
    out
}
