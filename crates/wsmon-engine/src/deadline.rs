//! Waiting for a deadline that may not be set.

use tokio::time::Instant;

/// Sleeps until `at`; with no deadline, forever (a `select!` arm that never fires).
pub async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
