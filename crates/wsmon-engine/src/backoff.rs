//! Reconnect delays: exponential growth with full jitter above a floor.

use std::time::Duration;

use rand::{Rng, RngExt};

/// Exponential backoff with full jitter: the n-th delay of an outage is drawn uniformly from
/// `[min, min(max, min * 2^n)]`, so clients spread out instead of retrying in lockstep.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    step: u32,
    spread: bool,
}

impl Backoff {
    /// A backoff between `min` and `max` (`max` is raised to `min` if smaller).
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            step: 0,
            spread: false,
        }
    }

    /// For one of many clients: even the first delay is drawn from `[min, 2 * min]`, so a
    /// fleet dropped at once by a restarting server does not come back in one burst.
    pub(crate) fn spread(mut self) -> Self {
        self.spread = true;
        self
    }

    /// The upper bound of the next delay.
    pub(crate) fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.step.min(31)).unwrap_or(u32::MAX);
        let c = self.min.saturating_mul(factor).min(self.max);
        if self.spread {
            c.max(self.min.saturating_mul(2))
        } else {
            c
        }
    }

    /// The next delay, drawn with `rng`; each call raises the ceiling until `max`.
    pub(crate) fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling();
        self.step = self.step.saturating_add(1);
        if ceiling <= self.min {
            return self.min;
        }
        let lo = self.min.as_nanos() as u64;
        let hi = ceiling.as_nanos() as u64;
        Duration::from_nanos(rng.random_range(lo..=hi))
    }

    /// Back to the shortest delay, after a connection has proven stable.
    pub(crate) fn reset(&mut self) {
        self.step = 0;
    }

    /// Back to the `step`-th delay of an outage (its ceiling `min * 2^step`): after a
    /// connection that opened but did not last, a short floor instead of the grown delay.
    pub(crate) fn reset_to(&mut self, step: u32) {
        self.step = step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    fn rng() -> SmallRng {
        SmallRng::seed_from_u64(7)
    }

    #[test]
    fn ceilings_double_up_to_max_and_delays_stay_within() {
        let mut r = rng();
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            let c = b.ceiling();
            let d = b.next_delay(&mut r);
            assert!(
                d >= Duration::from_millis(500) && d <= c,
                "{d:?} not in [500ms, {c:?}]"
            );
            ceilings.push(c.as_millis());
        }
        assert_eq!(
            ceilings,
            [
                500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000
            ]
        );
    }

    #[test]
    fn a_spread_backoff_jitters_even_the_first_delay() {
        let mut r = rng();
        let firsts: std::collections::HashSet<Duration> = (0..20)
            .map(|_| {
                Backoff::new(Duration::from_millis(100), Duration::from_secs(1))
                    .spread()
                    .next_delay(&mut r)
            })
            .collect();
        assert!(firsts.len() > 10, "{firsts:?}");
        assert!(
            firsts
                .iter()
                .all(|d| *d >= Duration::from_millis(100) && *d <= Duration::from_millis(200))
        );
    }

    #[test]
    fn reset_returns_to_the_floor() {
        let mut r = rng();
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        for _ in 0..5 {
            b.next_delay(&mut r);
        }
        b.reset();
        assert_eq!(b.next_delay(&mut r), Duration::from_millis(100));
        for _ in 0..5 {
            b.next_delay(&mut r);
        }
        b.reset_to(2);
        assert_eq!(b.ceiling(), Duration::from_millis(400), "a short floor");
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut r = rng();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20 {
            let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
            b.next_delay(&mut r);
            b.next_delay(&mut r);
            seen.insert(b.next_delay(&mut r));
        }
        assert!(seen.len() > 10, "delays should differ: {seen:?}");
    }

    #[test]
    fn huge_step_counts_do_not_overflow() {
        let mut r = rng();
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..100 {
            assert!(b.next_delay(&mut r) <= Duration::from_secs(60));
        }
    }
}
