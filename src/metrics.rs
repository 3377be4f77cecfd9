//! Prometheus metrics for every endpoint, from the same event folds as the screen: served at
//! `/metrics` in the text format, in dashboard and headless mode alike.

mod endpoint;

use std::time::SystemTime;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

pub use endpoint::{MAX_CONNECTIONS, ScrapeQueue, Scrapes, serve};

use crate::engine::{Cause, ClosedBy};
use crate::model::{ConnState, ConnStats, RTT_BUCKETS, RttStats};
use crate::targets::TargetsStatus;

/// What the metrics show of one endpoint, taken from its stats when a scrape comes.
#[derive(Debug)]
struct Snapshot {
    name: String,
    /// The endpoint's own labels (a targets file's).
    labels: Vec<(String, String)>,
    up: bool,
    state: u8,
    uptime: f64,
    connected: f64,
    disconnected: f64,
    unprobed: f64,
    health: &'static str,
    pattern: Option<PatternInfo>,
    dials: u64,
    reconnects_by_cause: Vec<(&'static str, u64)>,
    failures_by_cause: [u64; 7],
    closes_by: [u64; 5],
    msgs_in: u64,
    msgs_out: u64,
    bytes_in: u64,
    bytes_out: u64,
    last_close_code: u16,
    queued: usize,
    rtt: Histogram,
    app_rtt: Histogram,
    unanswered: u64,
    app_unanswered: u64,
    data_age: f64,
    stale: bool,
    stales: u64,
    auto_replies: u64,
    /// The last connection's certificate's `notAfter`, Unix seconds (wss only).
    cert_expiry: Option<i64>,
}

/// The drops' pattern as labels: its kind, the culprit, the server's code.
#[derive(Debug)]
struct PatternInfo {
    kind: &'static str,
    culprit: &'static str,
    code: String,
    period: f64,
}

/// An RTT histogram's per-bucket counts, sum and count.
#[derive(Debug)]
struct Histogram {
    buckets: [u64; RTT_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn of(r: &RttStats) -> Histogram {
        Histogram {
            buckets: r.buckets,
            sum: r.sum.as_secs_f64(),
            count: r.count,
        }
    }
}

impl Snapshot {
    fn of(name: &str, labels: &[(String, String)], s: &ConnStats, now: SystemTime) -> Snapshot {
        Snapshot {
            name: name.to_string(),
            labels: labels.to_vec(),
            up: s.state == ConnState::Open,
            state: s.state.code(),
            uptime: s.uptime(now).map_or(0.0, |d| d.as_secs_f64()),
            connected: s.up_total(now).as_secs_f64(),
            disconnected: s.down_total(now).as_secs_f64(),
            unprobed: s.unprobed_total(now).as_secs_f64(),
            health: s.health(now).as_str(),
            pattern: s.pattern(now).map(|p| PatternInfo {
                kind: p.kind(),
                culprit: p.culprit(),
                code: match &p {
                    crate::model::Pattern::ServerCloses { code: Some(c), .. } => c.to_string(),
                    _ => String::new(),
                },
                period: p.period().map_or(f64::NAN, |d| d.as_secs_f64()),
            }),
            dials: s.total_attempts,
            reconnects_by_cause: s.reconnects_by_cause.clone(),
            failures_by_cause: s.failures_by_cause,
            closes_by: s.closes_by,
            msgs_in: s.msgs_in,
            msgs_out: s.msgs_out,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            last_close_code: s.last_close.as_ref().and_then(|c| c.code).unwrap_or(0),
            queued: s.queued,
            rtt: Histogram::of(&s.rtt),
            app_rtt: Histogram::of(&s.app_rtt),
            unanswered: s.unanswered,
            app_unanswered: s.app_unanswered,
            // NaN until a connection has opened: there is no age to give.
            data_age: s.data_age(now).map_or(f64::NAN, |d| d.as_secs_f64()),
            stale: s.stale_since.is_some(),
            stales: s.stales,
            auto_replies: s.auto_replies,
            cert_expiry: s
                .last_open
                .as_ref()
                .and_then(|o| o.cert.as_ref())
                .map(|c| c.not_after),
        }
    }
}

/// One endpoint as the metrics show it: its name, its labels and its stats.
pub type Shown<'a> = (&'a str, &'a [(String, String)], &'a ConnStats);

/// The metrics of these endpoints (and of the targets file, when there is one) in the
/// Prometheus text format.
pub fn render<'a>(
    endpoints: impl IntoIterator<Item = Shown<'a>>,
    targets: Option<&TargetsStatus>,
    now: SystemTime,
) -> String {
    let snapshots: Vec<Snapshot> = endpoints
        .into_iter()
        .map(|(name, labels, s)| Snapshot::of(name, labels, s, now))
        .collect();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshots(snapshots, targets.cloned())));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)
        .expect("writing to a String cannot fail");
    out
}

/// Encodes snapshots taken for one scrape.
#[derive(Debug)]
struct Snapshots(Vec<Snapshot>, Option<TargetsStatus>);

type Labels = Vec<(String, String)>;

/// An endpoint's labels: its name, then its own.
fn labels(ep: &Snapshot) -> Labels {
    let mut l = Vec::with_capacity(1 + ep.labels.len());
    l.push(("endpoint".to_string(), ep.name.clone()));
    l.extend(ep.labels.iter().cloned());
    l
}

/// An endpoint's labels and one more.
fn with(ep: &Snapshot, key: &str, value: &str) -> Labels {
    let mut l = labels(ep);
    l.push((key.to_string(), value.to_string()));
    l
}

impl Collector for Snapshots {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let eps = &self.0;

        let gauge = |encoder: &mut DescriptorEncoder,
                     name: &str,
                     help: &str,
                     f: &dyn Fn(&Snapshot) -> f64|
         -> Result<(), std::fmt::Error> {
            let mut d = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for ep in eps.iter() {
                ConstGauge::new(f(ep)).encode(d.encode_family(&labels(ep))?)?;
            }
            Ok(())
        };
        let counter = |encoder: &mut DescriptorEncoder,
                       name: &str,
                       help: &str,
                       f: &dyn Fn(&Snapshot) -> Vec<(Labels, f64)>|
         -> Result<(), std::fmt::Error> {
            let mut d = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for ep in eps.iter() {
                for (l, v) in f(ep) {
                    ConstCounter::new(v).encode(d.encode_family(&l)?)?;
                }
            }
            Ok(())
        };

        gauge(
            &mut encoder,
            "wsmon_up",
            "1 while the connection is open, else 0",
            &|ep| f64::from(u8::from(ep.up)),
        )?;
        gauge(
            &mut encoder,
            "wsmon_state",
            "Connection state: 0 starting, 1 connecting, 2 open, 3 closing, 4 closed, 5 waiting to retry, 6 gave up",
            &|ep| f64::from(ep.state),
        )?;
        gauge(
            &mut encoder,
            "wsmon_uptime_seconds",
            "How long the current connection has been open (0 when down)",
            &|ep| ep.uptime,
        )?;
        counter(
            &mut encoder,
            "wsmon_connected_seconds",
            "Time connected since wsmon started",
            &|ep| vec![(labels(ep), ep.connected)],
        )?;
        counter(
            &mut encoder,
            "wsmon_disconnected_seconds",
            "Time seen down since wsmon started: from a drop or failed dial to the next open, when a dial failed in between",
            &|ep| vec![(labels(ep), ep.disconnected)],
        )?;
        counter(
            &mut encoder,
            "wsmon_not_probed_seconds",
            "Time wsmon did not look: a wait after a drop that ended in a successful dial, before the first result, closed by the user",
            &|ep| vec![(labels(ep), ep.unprobed)],
        )?;
        {
            let mut d = encoder.encode_descriptor(
                "wsmon_health",
                "1 for how the endpoint is doing now (healthy, pings_unanswered, flapping, stale, reconnecting, down, closed, gave_up), 0 for the others",
                None,
                MetricType::Gauge,
            )?;
            for ep in eps.iter() {
                for name in crate::model::Health::NAMES {
                    ConstGauge::new(f64::from(u8::from(ep.health == name)))
                        .encode(d.encode_family(&with(ep, "health", name))?)?;
                }
            }
        }
        {
            let mut d = encoder.encode_descriptor(
                "wsmon_drop_pattern",
                "The drops' pattern while there is one: the typical lifetime of a connection in seconds (NaN when lifetimes vary), labelled with its kind, the culprit the evidence names, and the server's close code",
                None,
                MetricType::Gauge,
            )?;
            for ep in eps.iter() {
                if let Some(p) = &ep.pattern {
                    let mut labels = labels(ep);
                    labels.extend([
                        ("kind".to_string(), p.kind.to_string()),
                        ("culprit".to_string(), p.culprit.to_string()),
                        ("code".to_string(), p.code.clone()),
                    ]);
                    ConstGauge::new(p.period).encode(d.encode_family(&labels)?)?;
                }
            }
        }
        counter(
            &mut encoder,
            "wsmon_dials",
            "Connection attempts started",
            &|ep| vec![(labels(ep), ep.dials as f64)],
        )?;
        counter(
            &mut encoder,
            "wsmon_reconnects",
            "Connections opened again after an outage, by what began the outage",
            &|ep| {
                ep.reconnects_by_cause
                    .iter()
                    .map(|(c, n)| (with(ep, "cause", c), *n as f64))
                    .collect()
            },
        )?;
        counter(
            &mut encoder,
            "wsmon_failures",
            "Failed dials and broken connections, by cause",
            &|ep| {
                Cause::ALL
                    .iter()
                    .zip(ep.failures_by_cause)
                    .map(|(c, n)| (with(ep, "cause", c.as_str()), n as f64))
                    .collect()
            },
        )?;
        counter(
            &mut encoder,
            "wsmon_closes",
            "Closed connections, by who closed them",
            &|ep| {
                ClosedBy::ALL
                    .iter()
                    .zip(ep.closes_by)
                    .map(|(by, n)| (with(ep, "by", by.as_str()), n as f64))
                    .collect()
            },
        )?;
        counter(
            &mut encoder,
            "wsmon_messages",
            "Data messages, by direction",
            &|ep| {
                vec![
                    (with(ep, "direction", "in"), ep.msgs_in as f64),
                    (with(ep, "direction", "out"), ep.msgs_out as f64),
                ]
            },
        )?;
        counter(
            &mut encoder,
            "wsmon_bytes",
            "Payload bytes, by direction",
            &|ep| {
                vec![
                    (with(ep, "direction", "in"), ep.bytes_in as f64),
                    (with(ep, "direction", "out"), ep.bytes_out as f64),
                ]
            },
        )?;
        gauge(
            &mut encoder,
            "wsmon_last_close_code",
            "Close code of the last close (0 when none was received)",
            &|ep| f64::from(ep.last_close_code),
        )?;
        gauge(
            &mut encoder,
            "wsmon_queued_messages",
            "Messages waiting to be sent until the connection is back",
            &|ep| ep.queued as f64,
        )?;

        gauge(
            &mut encoder,
            "wsmon_last_message_age_seconds",
            "Seconds since the last data message arrived (since the connection opened, before one did); NaN before any connection",
            &|ep| ep.data_age,
        )?;
        gauge(
            &mut encoder,
            "wsmon_stale",
            "1 while the open connection has carried no data for stale_after, else 0",
            &|ep| f64::from(u8::from(ep.stale)),
        )?;
        counter(
            &mut encoder,
            "wsmon_stales",
            "Times an open connection went stale",
            &|ep| vec![(labels(ep), ep.stales as f64)],
        )?;
        counter(
            &mut encoder,
            "wsmon_auto_replies",
            "Messages answered by an auto-reply rule or the preset's heartbeat",
            &|ep| vec![(labels(ep), ep.auto_replies as f64)],
        )?;
        {
            let mut d = encoder.encode_descriptor(
                "wsmon_unanswered_pings",
                "Pings sent on this connection and not answered yet, by heartbeat",
                None,
                MetricType::Gauge,
            )?;
            for ep in eps.iter() {
                for (kind, n) in [
                    ("protocol", ep.unanswered),
                    ("application", ep.app_unanswered),
                ] {
                    ConstGauge::new(n as f64).encode(d.encode_family(&with(
                        ep,
                        "heartbeat",
                        kind,
                    ))?)?;
                }
            }
        }
        {
            let mut d = encoder.encode_descriptor(
                "wsmon_tls_cert_expiry_timestamp_seconds",
                "When the certificate the server presented on the last wss connection expires (its notAfter), Unix seconds",
                None,
                MetricType::Gauge,
            )?;
            for ep in eps.iter() {
                if let Some(t) = ep.cert_expiry {
                    ConstGauge::new(t as f64).encode(d.encode_family(&labels(ep))?)?;
                }
            }
        }
        histogram(
            &mut encoder,
            eps,
            "wsmon_rtt_seconds",
            "Round-trip time of WebSocket pings",
            |ep| &ep.rtt,
        )?;
        histogram(
            &mut encoder,
            eps,
            "wsmon_app_rtt_seconds",
            "Round-trip time of the application heartbeat (app_ping to app_pong)",
            |ep| &ep.app_rtt,
        )?;
        if let Some(t) = &self.1 {
            targets_file(&mut encoder, t)?;
        }
        Ok(())
    }
}

/// The targets file's families: whether it read, how many targets, how often it changed.
fn targets_file(encoder: &mut DescriptorEncoder, t: &TargetsStatus) -> Result<(), std::fmt::Error> {
    let file = vec![("file".to_string(), t.path.display().to_string())];
    let gauge = |encoder: &mut DescriptorEncoder, name: &str, help: &str, v: f64| {
        let mut d = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
        ConstGauge::new(v).encode(d.encode_family(&file)?)
    };
    gauge(
        encoder,
        "wsmon_targets_file_ok",
        "1 when the targets file's last reading was good, 0 when it was refused (the last good set is watched)",
        f64::from(u8::from(t.ok)),
    )?;
    gauge(
        encoder,
        "wsmon_targets",
        "Targets watched from the targets file (this shard's)",
        t.targets as f64,
    )?;
    gauge(
        encoder,
        "wsmon_targets_file_changed_timestamp_seconds",
        "When the set of targets last changed (or was first read), Unix seconds",
        t.changed_at
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    )?;
    let mut d = encoder.encode_descriptor(
        "wsmon_targets_file_reloads",
        "Readings of the targets file that changed the set",
        None,
        MetricType::Counter,
    )?;
    ConstCounter::new(t.reloads as f64).encode(d.encode_family(&file)?)
}

/// One RTT histogram family.
fn histogram(
    encoder: &mut DescriptorEncoder,
    eps: &[Snapshot],
    name: &str,
    help: &str,
    of: impl Fn(&Snapshot) -> &Histogram,
) -> Result<(), std::fmt::Error> {
    let mut d = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for ep in eps {
        let h = of(ep);
        // Per-bucket counts: the encoder makes them cumulative.
        let buckets: Vec<(f64, u64)> = RTT_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(h.buckets)
            .collect();
        d.encode_family(&labels(ep))?
            .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                h.sum, h.count, &buckets, None,
            )?;
    }
    Ok(())
}
