//! Small network helpers shared by the servers wsmon runs (`wsmon serve`, `/metrics`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// The first pause after a failed accept; it doubles up to `ACCEPT_PAUSE_MAX`.
const ACCEPT_PAUSE_MIN: Duration = Duration::from_millis(10);
/// The longest pause between failed accepts.
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);

/// The next connection. A failed accept (out of file descriptors, EMFILE, is the usual one) is
/// logged and tried again after a growing pause: retrying at once would spin a core at 100%
/// while the condition lasts.
pub(crate) async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut pause = ACCEPT_PAUSE_MIN;
    loop {
        match listener.accept().await {
            Ok(conn) => return conn,
            Err(e) => {
                tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, "accept failed; pausing");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(ACCEPT_PAUSE_MAX);
            }
        }
    }
}
