//! Waiting for the signals that mean "stop": Ctrl-C, SIGTERM, and SIGHUP (a dropped SSH session).

/// Resolves on SIGINT, SIGTERM or SIGHUP.
pub async fn wait_for_stop() {
    wait_for(true).await;
}

/// Resolves on SIGINT or SIGTERM, and on SIGHUP when `hup` (a service that reads its
/// targets file again on SIGHUP does not stop on it).
pub async fn wait_for(hup: bool) {
    if !hup {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                return;
            }
        }
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
