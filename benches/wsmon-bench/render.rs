//! The dashboard state in process: heap per kept message, fold cost and frame time.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsmon::engine::{Dir, Event, Kind, Message, Stamped};
use wsmon::tui::app::App;

use super::ingest::ui_options;

/// Counts live heap bytes and allocations made and freed by the measuring thread, for the
/// per-message overhead measurement; other threads (servers winding down) do not count.
pub(crate) struct Counting;

thread_local! {
    // Const-initialised cells without destructors: using them allocates nothing.
    static COUNTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LIVE_BYTES: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
    static LIVE_BLOCKS: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

pub(crate) fn count(bytes: isize, blocks: isize) {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = LIVE_BYTES.try_with(|b| b.set(b.get() + bytes));
            let _ = LIVE_BLOCKS.try_with(|b| b.set(b.get() + blocks));
        }
    });
}

unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        count(layout.size() as isize, 1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        count(-(layout.size() as isize), -1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize, 0);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Heap bytes per kept message beyond its payload, with 16 bytes of allocator bookkeeping
/// counted per allocation: a full log of 100,000 messages of `size` bytes, whose payloads
/// arrive as slices of 128 KiB read buffers as tungstenite hands them over.
pub(crate) fn heap_per_message(size: usize) -> f64 {
    let n = 100_000usize;
    COUNTING.with(|c| c.set(true));
    let (bytes0, blocks0) = (LIVE_BYTES.with(|b| b.get()), LIVE_BLOCKS.with(|b| b.get()));
    let mut app = App::new(ui_options());
    let at = SystemTime::now();
    let mut buf = Bytes::from(vec![b'x'; 128 * 1024]);
    let mut batch = Vec::with_capacity(1024);
    for _ in 0..n {
        if buf.len() < size {
            buf = Bytes::from(vec![b'x'; 128 * 1024]);
        }
        let data = buf.split_to(size);
        batch.push(Stamped {
            at,
            event: Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data,
                id: 0,
            }),
        });
        if batch.len() == 1024 {
            app.apply(&std::mem::take(&mut batch));
        }
    }
    app.apply(&std::mem::take(&mut batch));
    drop(buf);
    let bytes = (LIVE_BYTES.with(|b| b.get()) - bytes0) as f64;
    let blocks = (LIVE_BLOCKS.with(|b| b.get()) - blocks0) as f64;
    COUNTING.with(|c| c.set(false));
    assert_eq!(app.log.len(), n, "the log is full");
    let per = (bytes + 16.0 * blocks) / n as f64 - size as f64;
    drop(app);
    per
}

/// A dashboard state with `count` messages of about 100 bytes folded in; returns it and the
/// time the folding took (batches made beforehand, as the engine hands them over).
pub(crate) fn filled_app(count: usize, capacity: usize) -> (App, Duration) {
    let mut opts = ui_options();
    opts.log_capacity = capacity;
    let mut app = App::new(opts);
    let at = SystemTime::now();
    let payload = Bytes::from_static(br#"{"type":"tick","seq":123456,"price":101.25,"ts":"2026-11-25T18:00:00.000Z","pad":"xxxxxxx"}"#);
    let batches: Vec<Vec<Stamped>> = (0..count)
        .map(|_| Stamped {
            at,
            event: Event::Message(Message {
                dir: Dir::In,
                kind: Kind::Text,
                data: payload.clone(),
                id: 0,
            }),
        })
        .collect::<Vec<_>>()
        .chunks(1024)
        .map(<[Stamped]>::to_vec)
        .collect();
    let t0 = Instant::now();
    for b in &batches {
        app.apply(b);
    }
    (app, t0.elapsed())
}

/// How the log is looked at while frames are timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// Following the newest rows.
    Following,
    /// Paused in the middle of the log.
    Paused,
    /// Only connection events (there are none: the filter walks its index).
    Events,
    /// Only rows containing a text (every row does: the text filter's index is the log).
    Grep,
}

/// Average time to lay out and draw one 120x40 frame with `count` messages in the log.
pub(crate) fn render_cost(count: usize, view: View) -> Duration {
    let (mut app, _) = filled_app(count, count.max(100));
    let at = SystemTime::now();
    app.now = at;
    match view {
        View::Following => {}
        View::Paused => app.selected = Some(app.log.first_seq() + app.log.len() as u64 / 2),
        View::Events => app.filter = wsmon::tui::log::Filter::Events,
        View::Grep => {
            app.log.set_grep(Some("price"));
            app.grep = Some("price".into());
        }
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let area = ratatui::layout::Rect::new(0, 0, 120, 40);
    let mut draw = |app: &mut App| {
        wsmon::tui::prepare(app, area);
        terminal
            .draw(|f| f.render_widget(&*app, f.area()))
            .expect("draw");
    };
    for _ in 0..20 {
        draw(&mut app);
    }
    let frames = 200;
    let t0 = Instant::now();
    for _ in 0..frames {
        draw(&mut app);
    }
    t0.elapsed() / frames
}
