//! A probe's outcome in the Prometheus text format, under the names blackbox exporter's
//! dashboards and alerts already use, and wsmon's own beside them.

use std::fmt::Write;

use super::Outcome;

/// One metric family: its help, its type, and its samples (labels, value).
struct Family<'a> {
    name: &'a str,
    help: &'a str,
    kind: &'a str,
    samples: Vec<(Vec<(&'a str, String)>, f64)>,
}

fn gauge<'a>(name: &'a str, help: &'a str, value: f64) -> Family<'a> {
    Family {
        name,
        help,
        kind: "gauge",
        samples: vec![(Vec::new(), value)],
    }
}

fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// The outcome as exposition text.
pub(super) fn render(o: &Outcome) -> String {
    let mut families = vec![
        gauge(
            "probe_success",
            "Displays whether or not the probe was a success",
            flag(o.success),
        ),
        gauge(
            "probe_duration_seconds",
            "Returns how long the probe took to complete in seconds",
            o.duration.as_secs_f64(),
        ),
    ];
    if let Some(p) = &o.phases {
        families.push(gauge(
            "probe_dns_lookup_time_seconds",
            "Returns the time taken for probe dns lookup in seconds",
            p.dns.as_secs_f64(),
        ));
        let mut phases = vec![
            (vec![("phase", "resolve".to_string())], p.dns.as_secs_f64()),
            (vec![("phase", "connect".to_string())], p.tcp.as_secs_f64()),
        ];
        if let Some(d) = p.proxy {
            phases.push((vec![("phase", "proxy".to_string())], d.as_secs_f64()));
        }
        if let Some(d) = p.tls {
            phases.push((vec![("phase", "tls".to_string())], d.as_secs_f64()));
        }
        phases.push((
            vec![("phase", "upgrade".to_string())],
            p.handshake.as_secs_f64(),
        ));
        if let Some(d) = o.app {
            phases.push((vec![("phase", "app".to_string())], d.as_secs_f64()));
        }
        families.push(Family {
            name: "probe_websocket_duration_seconds",
            help: "Duration of the WebSocket dial by phase, summed over all redirects",
            kind: "gauge",
            samples: phases,
        });
    }
    if let Some(addr) = o.remote {
        families.push(gauge(
            "probe_ip_protocol",
            "Specifies whether probe ip protocol is IP4 or IP6",
            if addr.is_ipv4() { 4.0 } else { 6.0 },
        ));
    }
    families.push(gauge(
        "probe_websocket_status_code",
        "Response HTTP status code of the upgrade (101 when it switched protocols, 0 when no answer came)",
        f64::from(o.status.unwrap_or(0)),
    ));
    families.push(gauge(
        "probe_websocket_connection_upgraded",
        "Whether the connection was upgraded to a WebSocket",
        flag(o.upgraded),
    ));
    families.push(gauge(
        "probe_failed_due_to_regex",
        "Indicates if probe failed due to regex (no received message matched the module's expect)",
        flag(o.matched == Some(false)),
    ));
    if let Some(v) = o.tls_version {
        families.push(Family {
            name: "probe_tls_version_info",
            help: "Returns the TLS version used or NaN when unknown",
            kind: "gauge",
            samples: vec![(vec![("version", tls_name(v))], 1.0)],
        });
    }
    if let Some(t) = o.cert_expiry {
        families.push(gauge(
            "probe_ssl_earliest_cert_expiry",
            "Returns last SSL chain expiry in unixtime",
            t as f64,
        ));
    }
    if let Some(rtt) = o.rtt {
        families.push(gauge(
            "probe_ws_rtt_seconds",
            "Round trip of a WebSocket ping sent once the connection was ready",
            rtt.as_secs_f64(),
        ));
    }
    if let Some(d) = o.matched_after {
        families.push(gauge(
            "probe_ws_expect_seconds",
            "From open to the first received message that matched expect",
            d.as_secs_f64(),
        ));
    }
    if let Some((phase, cause, message)) = &o.failure {
        families.push(Family {
            name: "probe_ws_failure_info",
            help: "Where the probe failed: the phase (dns, tcp, proxy, tls, upgrade, app, open, ping, expect, queue), the cause, and what wsmon says of it",
            kind: "gauge",
            samples: vec![(
                vec![
                    ("phase", phase.to_string()),
                    ("cause", cause.to_string()),
                    ("message", short(message)),
                ],
                1.0,
            )],
        });
    }
    let mut out = String::new();
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for (labels, value) in f.samples {
            out.push_str(f.name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape(v));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(value));
        }
    }
    out
}

/// `TLSv1.3` becomes `TLS 1.3`, as blackbox exporter names it.
fn tls_name(v: &str) -> String {
    v.replace("TLSv", "TLS ")
}

/// A message short enough for a label (160 characters), on one line.
fn short(message: &str) -> String {
    let one: String = crate::text::sanitize(message);
    match one.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &one[..i]),
        None => one,
    }
}

/// A label value escaped as the text format asks.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value: integers without a fraction, NaN as Prometheus writes it.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
