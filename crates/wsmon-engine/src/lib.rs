//! wsmon's connection engine: one tokio task owns a WebSocket and streams typed events to a
//! frontend, which answers with typed commands. Nothing here draws or prints; the frontends
//! (wsmon's dashboard, its JSON lines, its metrics) fold the events. A failure is reported
//! as facts (`Failure::problem`, a [`Problem`]): the frontend puts them in words.
//!
//! The engine dials (DNS, TCP, an HTTP proxy's CONNECT, TLS, the upgrade), timing each phase
//! and naming the one that failed; keeps the connection alive with pings and an application
//! heartbeat; speaks the presets' protocols (Socket.IO, graphql-ws, MQTT, STOMP);
//! reconnects with backoff and jitter; queues what is sent while down.
//!
//! ```no_run
//! use wsmon_engine::{ConnSettings, Engine, Event, target::Target};
//!
//! # async fn watch() {
//! let settings = ConnSettings::new(Target::parse("wss://echo.example.com/").unwrap());
//! let mut engine = Engine::spawn(settings);
//! while let Some(batch) = engine.events.recv().await {
//!     for stamped in batch.iter() {
//!         if let Event::Open(info) = &stamped.event {
//!             println!("open after {:?} of TLS", info.phases.tls);
//!         }
//!     }
//! }
//! # }
//! ```

mod backoff;
pub mod close_code;
mod command;
mod contained;
pub mod deadline;
pub mod dial;
mod event;
pub mod fmt;
mod heartbeat;
mod http;
pub mod problem;
pub mod protocol;
pub mod redact;
pub mod settings;
pub mod target;
pub mod tls;
pub mod transport;

mod batcher;
mod ending;
mod ledger;
mod open;
mod preset_io;
mod task;
mod writer;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use command::{Command, Tap};
pub use contained::in_engine;
pub use dial::{Connector, Network};
pub use event::{
    Batch, Cause, CertInfo, CloseInfo, ClosedBy, Dir, DropReason, Event, Failure, HttpFailure,
    Kind, Message, OpenInfo, PREVIEW, Phase, Phases, Reached, Stamped, StopReason, Verdict,
    Warning,
};
pub use problem::{AppProblem, BadHead, ChainMiss, NotInCaFile, Problem, ProxyName, TlsProblem};
pub use protocol::Preset;
pub use settings::{AutoReply, ConnSettings, Proxy, StaleAction};

/// Batches of events in flight between the engine and its frontend; the bound gives
/// backpressure (the socket waits) instead of unbounded memory when a frontend falls behind.
const EVENT_BATCHES: usize = 64;
/// Commands in flight from the frontend.
const COMMANDS: usize = 4096;

/// A running engine: its command sender, its event receiver, and its task.
pub struct Engine {
    /// Where frontends send commands.
    pub commands: mpsc::Sender<Command>,
    /// Where events arrive, in batches.
    pub events: mpsc::Receiver<Batch>,
    /// The socket task; it ends after `Command::Shutdown` or when `events` is dropped.
    pub task: JoinHandle<()>,
}

impl Engine {
    /// Starts the socket task on the current tokio runtime.
    pub fn spawn(settings: ConnSettings) -> Engine {
        Engine::spawn_with(settings, Arc::new(Network))
    }

    /// Starts the socket task with its own way of opening connections (tests dial in-memory
    /// pipes, so timing can be asserted on tokio's paused clock).
    pub fn spawn_with(settings: ConnSettings, connector: Arc<dyn Connector>) -> Engine {
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMANDS);
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_BATCHES);
        let out = batcher::Out::Single(ev_tx);
        let task = tokio::spawn(contained::contained(
            task::Task::new(Arc::new(settings), cmd_rx, out.clone(), None, connector).run(),
            out,
        ));
        Engine {
            commands: cmd_tx,
            events: ev_rx,
            task,
        }
    }

    /// Starts one engine of many: its batches go to a shared channel, tagged with `id`, so one
    /// consumer serves a whole fleet.
    pub fn spawn_tagged(
        settings: ConnSettings,
        id: usize,
        events: mpsc::Sender<Tagged>,
        tap: Option<Tap>,
    ) -> EngineHandle {
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMANDS);
        let out = batcher::Out::Tagged(id, events);
        let task = tokio::spawn(contained::contained(
            task::Task::new(
                Arc::new(settings),
                cmd_rx,
                out.clone(),
                tap,
                Arc::new(Network),
            )
            .run(),
            out,
        ));
        EngineHandle {
            commands: cmd_tx,
            task,
        }
    }

    /// A channel for tagged batches, sized for `engines` engines.
    pub fn fleet_channel(engines: usize) -> (mpsc::Sender<Tagged>, mpsc::Receiver<Tagged>) {
        mpsc::channel(EVENT_BATCHES.max(engines.saturating_mul(2)).min(4096))
    }
}

/// A batch from one engine of a fleet, with the engine's index.
pub type Tagged = (usize, Batch);

/// An engine whose events go to a shared channel.
pub struct EngineHandle {
    /// Where frontends send commands.
    pub commands: mpsc::Sender<Command>,
    /// The socket task.
    pub task: JoinHandle<()>,
}
