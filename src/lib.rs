//! wsmon: watch a WebSocket connection live, from a terminal dashboard or as JSON lines.

pub mod app;
pub mod bounded;
pub mod cli;
pub mod config;
pub use wsmon_engine::deadline;
pub mod describe;
pub use wsmon_engine as engine;
pub mod error;
pub mod headless;
pub mod jsonl;
pub mod keymap;
#[cfg(test)]
mod layering;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod net;
pub mod paths;
pub mod probe;
pub mod record;
pub mod replay;
pub mod report;
pub mod server;
pub mod session;
pub mod signals;
pub mod small;
pub mod targets;
pub mod text;
pub mod tui;
