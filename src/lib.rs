//! wsmon: watch a WebSocket connection live, from a terminal dashboard or as JSON lines.

pub mod engine;
pub mod server;
pub mod signals;
