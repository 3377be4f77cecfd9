//! Keep-alive pings and the dead-peer verdict for half-open connections.

use std::time::Duration;

use tokio::time::Instant;

/// What the heartbeat wants done when its deadline comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Send a ping with this sequence number.
    Ping(u64),
    /// No frame arrived within the pong timeout: the peer is gone.
    Dead,
}

/// Schedules pings and watches for an answer: any frame after a ping proves the peer alive,
/// and the matching pong yields a round-trip sample.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    interval: Option<Duration>,
    timeout: Duration,
    next_ping: Option<Instant>,
    // Sequence and send time of pings whose pong has not come back yet.
    in_flight: Vec<(u64, Instant)>,
    // Set while waiting for any sign of life after a ping.
    deadline: Option<Instant>,
    seq: u64,
    // A pong answered one of our pings on this connection.
    answered: bool,
}

impl Heartbeat {
    /// A heartbeat starting now; `interval` `None` disables pings (RTT only from manual pings).
    #[cfg(test)]
    pub(crate) fn new(interval: Option<Duration>, timeout: Duration, now: Instant) -> Self {
        Heartbeat::starting_after(interval, timeout, now, interval.unwrap_or_default())
    }

    /// A heartbeat whose first ping comes `first` after `now` (a fleet spreads them out).
    pub(crate) fn starting_after(
        interval: Option<Duration>,
        timeout: Duration,
        now: Instant,
        first: Duration,
    ) -> Self {
        Heartbeat {
            interval,
            timeout,
            next_ping: interval.map(|_| now + first),
            in_flight: Vec::new(),
            deadline: None,
            seq: 0,
            answered: false,
        }
    }

    /// The next instant at which `poll` has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match (self.next_ping, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Called at or after `next_deadline`: what to do now.
    pub(crate) fn poll(&mut self, now: Instant) -> Option<Beat> {
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            self.next_ping = None;
            return Some(Beat::Dead);
        }
        if self.next_ping.is_some_and(|p| now >= p) {
            return Some(Beat::Ping(self.ping_sent(now)));
        }
        None
    }

    /// Records a ping going out now (scheduled or manual); returns its sequence number.
    pub(crate) fn ping_sent(&mut self, now: Instant) -> u64 {
        self.seq += 1;
        if self.in_flight.len() >= 16 {
            self.in_flight.remove(0);
        }
        self.in_flight.push((self.seq, now));
        if self.deadline.is_none() {
            self.deadline = Some(now + self.timeout);
        }
        self.next_ping = self.interval.map(|i| now + i);
        self.seq
    }

    /// Ping `seq` reached the socket at `now`: its round trip is timed from here.
    pub(crate) fn written(&mut self, seq: u64, now: Instant) {
        if let Some((_, sent)) = self.in_flight.iter_mut().find(|(s, _)| *s == seq) {
            *sent = now;
        }
    }

    /// Any frame from the peer: it is alive.
    pub(crate) fn frame_received(&mut self) {
        self.deadline = None;
    }

    /// A pong arrived; returns the round trip if it answers one of our pings.
    pub(crate) fn pong_received(&mut self, payload: &[u8], now: Instant) -> Option<Duration> {
        self.deadline = None;
        let seq = u64::from_be_bytes(payload.try_into().ok()?);
        let idx = self.in_flight.iter().position(|(s, _)| *s == seq)?;
        let (_, sent) = self.in_flight[idx];
        // Older pings are answered implicitly: pongs come back in order.
        self.in_flight.drain(..=idx);
        self.answered = true;
        Some(now.saturating_duration_since(sent))
    }

    /// Whether any ping of this connection was answered (a peer that stops answering is not
    /// the same as one that never did).
    pub(crate) fn answered_any(&self) -> bool {
        self.answered
    }

    /// The payload that carries a sequence number in a ping.
    pub(crate) fn payload(seq: u64) -> [u8; 8] {
        seq.to_be_bytes()
    }
}

/// The application heartbeat: a message (`app_ping`) every interval, answered by a message
/// that matches `app_pong`; only that answer proves the application alive.
#[derive(Debug)]
pub(crate) struct AppHeartbeat {
    interval: Duration,
    timeout: Duration,
    next: Option<Instant>,
    // Sequence and send time of the ping being waited for.
    waiting: Option<(u64, Instant)>,
    seq: u64,
    answered: bool,
}

impl AppHeartbeat {
    /// Pings every `interval` starting `first` after `now`; no answer within `timeout` is the
    /// verdict. Nothing is scheduled until `start` (a preset's handshake may come first).
    pub(crate) fn new(interval: Duration, timeout: Duration) -> AppHeartbeat {
        AppHeartbeat {
            interval,
            timeout,
            next: None,
            waiting: None,
            seq: 0,
            answered: false,
        }
    }

    /// Schedules the first ping `first` after `now`.
    pub(crate) fn start(&mut self, now: Instant, first: Duration) {
        self.next = Some(now + first);
    }

    /// The next instant `poll` has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let dead = self.waiting.map(|(_, sent)| sent + self.timeout);
        match (self.next, dead) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// At or after `next_deadline`: `Ping(seq)` to send one, `Dead` when the answer is late.
    pub(crate) fn poll(&mut self, now: Instant) -> Option<Beat> {
        if self
            .waiting
            .is_some_and(|(_, sent)| now >= sent + self.timeout)
        {
            self.waiting = None;
            self.next = None;
            return Some(Beat::Dead);
        }
        if self.next.is_some_and(|n| now >= n) {
            self.seq += 1;
            if self.waiting.is_none() {
                self.waiting = Some((self.seq, now));
            }
            self.next = Some(now + self.interval);
            return Some(Beat::Ping(self.seq));
        }
        None
    }

    /// Application ping `seq` reached the socket at `now`: its round trip is timed from
    /// here (the answer's deadline too).
    pub(crate) fn written(&mut self, seq: u64, now: Instant) {
        if let Some((waiting, sent)) = self.waiting.as_mut()
            && *waiting == seq
        {
            *sent = now;
        }
    }

    /// A message matching `app_pong` came: the round trip of the ping it answers.
    pub(crate) fn answered(&mut self, now: Instant) -> Option<Duration> {
        let (_, sent) = self.waiting.take()?;
        self.answered = true;
        Some(now.saturating_duration_since(sent))
    }

    /// Whether any application ping of this connection was answered.
    #[cfg(test)]
    pub(crate) fn answered_any(&self) -> bool {
        self.answered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn pings_on_schedule_from_the_first_connect() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Some(15 * S), 10 * S, t0);
        assert_eq!(hb.next_deadline(), Some(t0 + 15 * S));
        assert_eq!(hb.poll(t0 + 14 * S), None);
        assert_eq!(hb.poll(t0 + 15 * S), Some(Beat::Ping(1)));
        // Now waiting for a pong: the deadline is the pong timeout, before the next ping.
        assert_eq!(hb.next_deadline(), Some(t0 + 25 * S));
    }

    #[test]
    fn silence_after_a_ping_is_death() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Some(15 * S), 10 * S, t0);
        hb.poll(t0 + 15 * S);
        assert_eq!(hb.poll(t0 + 25 * S), Some(Beat::Dead));
        assert_eq!(hb.next_deadline(), None);
    }

    #[test]
    fn any_frame_proves_life_and_the_pong_gives_rtt() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(Some(15 * S), 10 * S, t0);
        let Some(Beat::Ping(seq)) = hb.poll(t0 + 15 * S) else {
            panic!("expected a ping")
        };
        hb.frame_received();
        assert_eq!(hb.next_deadline(), Some(t0 + 30 * S));
        let rtt = hb.pong_received(
            &Heartbeat::payload(seq),
            t0 + 15 * S + Duration::from_millis(7),
        );
        assert_eq!(rtt, Some(Duration::from_millis(7)));
        // A ping queued at 20 s and written at 26 s: its round trip starts when written.
        let seq = hb.ping_sent(t0 + 20 * S);
        hb.written(seq, t0 + 26 * S);
        assert_eq!(
            hb.pong_received(
                &Heartbeat::payload(seq),
                t0 + 26 * S + Duration::from_millis(3)
            ),
            Some(Duration::from_millis(3))
        );
        // A pong we never asked for gives no sample.
        assert_eq!(hb.pong_received(b"unsolicited", t0 + 16 * S), None);
    }

    #[test]
    fn the_application_heartbeat_waits_for_its_own_answer() {
        let t0 = Instant::now();
        let mut app = AppHeartbeat::new(15 * S, 10 * S);
        assert_eq!(app.next_deadline(), None, "nothing before start");
        app.start(t0, 15 * S);
        assert_eq!(app.poll(t0 + 15 * S), Some(Beat::Ping(1)));
        assert_eq!(app.next_deadline(), Some(t0 + 25 * S));
        assert_eq!(app.answered(t0 + 16 * S), Some(S));
        assert!(app.answered_any());
        assert_eq!(app.answered(t0 + 17 * S), None, "one answer per ping");
        assert_eq!(app.poll(t0 + 30 * S), Some(Beat::Ping(2)));
        assert_eq!(app.poll(t0 + 40 * S), Some(Beat::Dead));
    }

    #[test]
    fn disabled_heartbeat_still_times_manual_pings() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(None, 10 * S, t0);
        assert_eq!(hb.next_deadline(), None);
        let seq = hb.ping_sent(t0);
        assert_eq!(hb.next_deadline(), Some(t0 + 10 * S));
        assert_eq!(hb.pong_received(&Heartbeat::payload(seq), t0 + S), Some(S));
        assert_eq!(hb.next_deadline(), None);
    }
}
