//! Nothing a peer, a file or a user sends can take wsmon down: an engine that panics anyway
//! stops alone, reported as an event, while the others go on; local reads are bounded.

use crate::common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use common::{Probe, fast};
use tokio::time::Instant;
use wsmon::engine::dial::Dialed;
use wsmon::engine::{ConnSettings, Connector, Event, Failure, Phase};
use wsmon::model::{ConnState, ConnStats, Health};

/// A connector with a bug: its dial panics.
struct Panics;

impl Connector for Panics {
    fn connect<'a>(
        &'a self,
        _: &'a ConnSettings,
        _: Instant,
        _: &'a mut Phase,
    ) -> Pin<Box<dyn Future<Output = Result<Dialed, Failure>> + Send + 'a>> {
        Box::pin(async { panic!("a bug in the dial") })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_panics_stops_alone_and_says_so() {
    let srv = common::echo_server().await;
    let mut healthy = Probe::start(fast(&srv.url()));
    let mut broken = Probe::start_with(fast(&srv.url()), Arc::new(Panics));
    broken.patience_for_tests(common::PATIENCE);
    let e = broken
        .until("the crash", |e| matches!(e, Event::Crashed(_)))
        .await;
    let Event::Crashed(message) = e else {
        unreachable!()
    };
    assert_eq!(&*message, "a bug in the dial");
    let mut s = ConnStats::default();
    broken.log.iter().for_each(|e| s.apply(e));
    assert_eq!(s.state, ConnState::Crashed);
    assert_eq!(s.health(std::time::SystemTime::now()), Health::GaveUp);
    // The other engine is untouched.
    healthy.until("open", |e| matches!(e, Event::Open(_))).await;
    healthy.send_text("still here").await;
    healthy
        .until(
            "its echo",
            |e| matches!(e, Event::Message(m) if m.text() == Some("still here")),
        )
        .await;
    healthy.shutdown().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}
