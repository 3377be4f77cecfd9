//! Waiting for the signals that mean "stop": Ctrl-C, SIGTERM, and SIGHUP (a dropped SSH session).
//! The handlers are installed when the waiting is set up, not when it is first polled: a
//! signal that comes before the first poll (right after start, while the first events are
//! handled) is caught, not left to its default action (which would end wsmon on the spot,
//! the terminal not given back).

use std::future::Future;

/// Resolves on SIGINT, SIGTERM or SIGHUP.
pub(crate) fn wait_for_stop() -> impl Future<Output = ()> + Send + 'static {
    wait_for(true)
}

/// Resolves on SIGINT or SIGTERM, and on SIGHUP when `hup` (a service that reads its
/// targets file again on SIGHUP does not stop on it).
pub(crate) fn wait_for(hup: bool) -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        let hangup = if hup {
            signal(SignalKind::hangup()).ok()
        } else {
            None
        };
        async fn one(s: Option<Signal>) {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        async move {
            if term.is_none() && int.is_none() {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
            tokio::select! {
                _ = one(term) => {}
                _ = one(int) => {}
                _ = one(hangup) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = hup;
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
