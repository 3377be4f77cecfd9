//! An engine that panics stops alone: its task's panic is caught and becomes a `Crashed`
//! event for its endpoint, the other endpoints go on, and the dashboard keeps the terminal
//! (the panic hook leaves the screen alone for a panic inside an engine).

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use super::batcher::Out;
use super::event::{Event, Stamped};

thread_local! {
    /// Set while an engine's task is being polled on this thread.
    static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the code running now is an engine's (a panic hook asks: an engine's panic is the
/// engine's alone, and the terminal stays with the dashboard).
pub fn in_engine() -> bool {
    IN_ENGINE.with(Cell::get)
}

/// Runs `task`; if it panics, reports `Crashed` with the panic's message to `out`.
pub(super) async fn contained(task: impl Future<Output = ()> + Send + 'static, out: Out) {
    if let Err(message) = (Contained {
        inner: Box::pin(task),
    })
    .await
    {
        tracing::error!(%message, "an engine stopped on a panic");
        let batch = Arc::new(vec![Stamped {
            at: SystemTime::now(),
            event: Event::Crashed(message.into()),
        }]);
        let _ = out.send(batch).await;
    }
}

struct Contained<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future<Output = ()>> Future for Contained<F> {
    type Output = Result<(), String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let was = IN_ENGINE.with(|f| f.replace(true));
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.as_mut().poll(cx)));
        IN_ENGINE.with(|f| f.set(was));
        match polled {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// A panic's message: its text, or that it had none.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
