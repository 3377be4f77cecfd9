//! Round-trip samples: running totals, a histogram for the metrics, and a window for the
//! percentiles and the sparkline.

use std::collections::VecDeque;
use std::time::Duration;

/// How many RTT samples feed the percentiles.
const RTT_WINDOW: usize = 1024;
/// How many RTT samples the sparkline shows at most.
pub const SPARK_LEN: usize = 120;

/// Upper bounds of the RTT histogram's buckets, in seconds (the last bucket is unbounded).
pub const RTT_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Round-trip samples: running totals plus a window for percentiles.
#[derive(Clone, Debug, Default)]
pub struct RttStats {
    // In microseconds: a fleet holds one window per endpoint (4 KiB full, not 16).
    window: VecDeque<u32>,
    /// Newest sample.
    pub last: Option<Duration>,
    /// Smallest sample ever.
    pub min: Option<Duration>,
    /// Largest sample ever.
    pub max: Option<Duration>,
    /// Sum of all samples.
    pub sum: Duration,
    /// Samples seen.
    pub count: u64,
    /// Samples per `RTT_BUCKETS` bucket (not cumulative); the last counts those above them all.
    pub buckets: [u64; RTT_BUCKETS.len() + 1],
}

impl RttStats {
    /// Adds a sample.
    pub fn add(&mut self, rtt: Duration) {
        if self.window.len() == RTT_WINDOW {
            self.window.pop_front();
        }
        let micros = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX);
        crate::small::push_back(&mut self.window, micros);
        self.last = Some(rtt);
        self.min = Some(self.min.map_or(rtt, |m| m.min(rtt)));
        self.max = Some(self.max.map_or(rtt, |m| m.max(rtt)));
        self.sum += rtt;
        self.count += 1;
        let secs = rtt.as_secs_f64();
        let bucket = RTT_BUCKETS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(RTT_BUCKETS.len());
        self.buckets[bucket] += 1;
    }

    /// Mean of all samples.
    pub(crate) fn avg(&self) -> Option<Duration> {
        (self.count > 0).then(|| self.sum / self.count as u32)
    }

    /// Nearest-rank percentiles over the recent window, for each `p` in 0..=100.
    pub(crate) fn percentiles<const N: usize>(&self, ps: [f64; N]) -> [Option<Duration>; N] {
        if self.window.is_empty() {
            return [None; N];
        }
        let mut sorted: Vec<u32> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        ps.map(|p| {
            let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            Some(Duration::from_micros(u64::from(
                sorted[rank.clamp(1, sorted.len()) - 1],
            )))
        })
    }

    /// The newest samples, oldest first, at most `n`.
    pub(crate) fn recent(&self, n: usize) -> impl Iterator<Item = Duration> + '_ {
        self.window
            .iter()
            .skip(self.window.len().saturating_sub(n))
            .map(|&us| Duration::from_micros(u64::from(us)))
    }
}
