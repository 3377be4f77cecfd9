//! Prometheus metrics for every endpoint, from the same event folds as the screen: served at
//! `/metrics` in the text format, in dashboard and headless mode alike.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::engine::stats::RTT_BUCKETS;
use crate::engine::{Cause, ClosedBy, ConnState, ConnStats, Stamped};

/// What the metrics know about one endpoint.
#[derive(Debug, Default)]
struct EndpointMetrics {
    name: String,
    stats: ConnStats,
}

impl EndpointMetrics {
    fn apply(&mut self, s: &Stamped) {
        self.stats.apply(s);
    }
}

/// Metrics of a set of endpoints, updated by the frontend as it folds events.
#[derive(Debug)]
pub struct Metrics {
    endpoints: Mutex<Vec<EndpointMetrics>>,
}

impl Metrics {
    /// Metrics for endpoints with these names, in engine order.
    pub fn new(names: impl IntoIterator<Item = String>) -> Arc<Metrics> {
        Arc::new(Metrics {
            endpoints: Mutex::new(
                names
                    .into_iter()
                    .map(|name| EndpointMetrics {
                        name,
                        ..Default::default()
                    })
                    .collect(),
            ),
        })
    }

    /// Folds a batch of endpoint `id`'s events in.
    pub fn apply(&self, id: usize, batch: &[Stamped]) {
        let mut eps = self.endpoints.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ep) = eps.get_mut(id) {
            batch.iter().for_each(|s| ep.apply(s));
        }
    }

    /// The metrics in the Prometheus text exposition format.
    pub fn render(self: &Arc<Self>) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Snapshot(self.clone())));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Encodes the current state on each scrape.
#[derive(Debug)]
struct Snapshot(Arc<Metrics>);

type Labels = Vec<(&'static str, String)>;

fn labels(name: &str) -> Labels {
    vec![("endpoint", name.to_string())]
}

fn with(name: &str, key: &'static str, value: &str) -> Labels {
    vec![("endpoint", name.to_string()), (key, value.to_string())]
}

impl Collector for Snapshot {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let now = SystemTime::now();
        let eps = self.0.endpoints.lock().unwrap_or_else(|e| e.into_inner());

        let gauge = |encoder: &mut DescriptorEncoder,
                     name: &str,
                     help: &str,
                     f: &dyn Fn(&EndpointMetrics) -> f64|
         -> Result<(), std::fmt::Error> {
            let mut d = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for ep in eps.iter() {
                ConstGauge::new(f(ep)).encode(d.encode_family(&labels(&ep.name))?)?;
            }
            Ok(())
        };
        let counter = |encoder: &mut DescriptorEncoder,
                       name: &str,
                       help: &str,
                       f: &dyn Fn(&EndpointMetrics) -> Vec<(Labels, f64)>|
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
            &|ep| f64::from(u8::from(ep.stats.state == ConnState::Open)),
        )?;
        gauge(
            &mut encoder,
            "wsmon_state",
            "Connection state: 0 starting, 1 connecting, 2 open, 3 closing, 4 closed, 5 waiting to retry, 6 gave up",
            &|ep| f64::from(ep.stats.state.code()),
        )?;
        gauge(
            &mut encoder,
            "wsmon_uptime_seconds",
            "How long the current connection has been open (0 when down)",
            &|ep| ep.stats.uptime(now).map_or(0.0, |d| d.as_secs_f64()),
        )?;
        counter(
            &mut encoder,
            "wsmon_connected_seconds",
            "Time connected since wsmon started",
            &|ep| vec![(labels(&ep.name), ep.stats.up_total(now).as_secs_f64())],
        )?;
        counter(
            &mut encoder,
            "wsmon_disconnected_seconds",
            "Time not connected since wsmon started",
            &|ep| vec![(labels(&ep.name), ep.stats.down_total(now).as_secs_f64())],
        )?;
        counter(
            &mut encoder,
            "wsmon_dials",
            "Connection attempts started",
            &|ep| vec![(labels(&ep.name), ep.stats.total_attempts as f64)],
        )?;
        counter(
            &mut encoder,
            "wsmon_reconnects",
            "Connections opened again after an outage, by what began the outage",
            &|ep| {
                ep.stats
                    .reconnects_by_cause
                    .iter()
                    .map(|(c, n)| (with(&ep.name, "cause", c), *n as f64))
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
                    .zip(ep.stats.failures_by_cause)
                    .map(|(c, n)| (with(&ep.name, "cause", c.as_str()), n as f64))
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
                    .zip(ep.stats.closes_by)
                    .map(|(by, n)| (with(&ep.name, "by", by.as_str()), n as f64))
                    .collect()
            },
        )?;
        counter(
            &mut encoder,
            "wsmon_messages",
            "Data messages, by direction",
            &|ep| {
                vec![
                    (with(&ep.name, "direction", "in"), ep.stats.msgs_in as f64),
                    (with(&ep.name, "direction", "out"), ep.stats.msgs_out as f64),
                ]
            },
        )?;
        counter(
            &mut encoder,
            "wsmon_bytes",
            "Payload bytes, by direction",
            &|ep| {
                vec![
                    (with(&ep.name, "direction", "in"), ep.stats.bytes_in as f64),
                    (
                        with(&ep.name, "direction", "out"),
                        ep.stats.bytes_out as f64,
                    ),
                ]
            },
        )?;
        gauge(
            &mut encoder,
            "wsmon_last_close_code",
            "Close code of the last close (0 when none was received)",
            &|ep| {
                f64::from(
                    ep.stats
                        .last_close
                        .as_ref()
                        .and_then(|c| c.code)
                        .unwrap_or(0),
                )
            },
        )?;
        gauge(
            &mut encoder,
            "wsmon_queued_messages",
            "Messages waiting to be sent until the connection is back",
            &|ep| ep.stats.queued as f64,
        )?;

        let mut d = encoder.encode_descriptor(
            "wsmon_rtt_seconds",
            "Round-trip time of pings",
            None,
            MetricType::Histogram,
        )?;
        for ep in eps.iter() {
            let rtt = &ep.stats.rtt;
            // Per-bucket counts: the encoder makes them cumulative.
            let buckets: Vec<(f64, u64)> = RTT_BUCKETS
                .iter()
                .copied()
                .chain(std::iter::once(f64::INFINITY))
                .zip(rtt.buckets)
                .collect();
            d.encode_family(&labels(&ep.name))?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    rtt.sum.as_secs_f64(),
                    rtt.count,
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

/// Serves `GET /metrics` on `addr`; returns the address bound (useful with port 0).
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = crate::net::accept(&listener).await;
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                    match tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        tcp.read(&mut buf),
                    )
                    .await
                    {
                        Ok(Ok(n)) if n > 0 => req.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let line = String::from_utf8_lossy(&req);
                let target = line.split_whitespace().nth(1).unwrap_or("");
                let (status, ctype, body) = if line.starts_with("GET ")
                    && (target == "/metrics" || target.starts_with("/metrics?"))
                {
                    (
                        "200 OK",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        metrics.render(),
                    )
                } else if line.starts_with("GET ") && target == "/" {
                    (
                        "200 OK",
                        "text/plain; charset=utf-8",
                        "wsmon: Prometheus metrics are at /metrics\n".to_string(),
                    )
                } else {
                    (
                        "404 Not Found",
                        "text/plain; charset=utf-8",
                        "not found: try /metrics\n".to_string(),
                    )
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                let _ = tcp.write_all(body.as_bytes()).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    Ok(bound)
}
