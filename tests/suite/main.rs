//! wsmon's integration tests, one binary (one link of wsmon, rustls and tokio, not one per
//! area): each module is an area, `common` holds the helpers every area shares (the binary
//! under test, echo and fault servers, the real third-party servers, tmux).

mod common;

mod app_protocols;
mod bench_smoke;
mod brokers;
mod cli;
mod delivery;
mod e2e_keys;
mod e2e_tmux;
mod engine;
mod engine_app;
mod engine_clock;
mod engine_tls_proxy;
mod faults;
mod fleet;
mod fleet_overview;
mod fuzz;
mod graphql;
mod headless;
mod hostile;
mod local_input;
mod metrics_endpoint;
mod openssl_certs;
mod prometheus;
mod real_peers;
mod record_replay;
mod replay_edges;
mod report;
mod robustness;
mod secrets;
mod soak;
mod socketio;
mod terminal;
mod tui_snapshots;
mod tui_state;
mod verdict;
