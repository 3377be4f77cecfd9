//! wsmon: watch a WebSocket connection live, from a terminal dashboard or as JSON lines.

pub mod app;
mod bounded;
pub mod cli;
pub mod config;
use wsmon_engine::deadline;
pub mod describe;
pub use wsmon_engine as engine;
mod error;
pub mod headless;
pub mod jsonl;
pub mod keymap;
#[cfg(test)]
mod layering;
mod logging;
pub mod metrics;
pub mod model;
mod net;
mod paths;
mod probe;
pub mod record;
pub mod replay;
pub mod report;
pub mod server;
pub mod session;
mod signals;
mod small;
pub mod targets;
pub mod text;
pub mod tui;
