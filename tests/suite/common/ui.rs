//! Building dashboard states from events at fixed times, for state and snapshot tests.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use wsmon::engine::*;
use wsmon::tui::app::{App, Effect, UiOptions};
use wsmon::tui::theme::Theme;

/// 2026-11-25T12:00:00Z plus `secs`.
pub fn at(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_089_600) + Duration::from_secs_f64(secs)
}

pub fn opts(theme: Theme) -> UiOptions {
    UiOptions {
        url: "wss://api.example.com/feed?token=***".into(),
        log_capacity: 100_000,
        log_max_bytes: 256 << 20,
        fps: 30,
        ping_interval: Some(Duration::from_secs(15)),
        pong_timeout: Duration::from_secs(10),
        demo: false,
        theme,
        history: None,
        header: wsmon::jsonl::RecordHeader {
            tool: String::new(),
            url: "wss://api.example.com/feed?token=***".into(),
            headers: vec![("Authorization".into(), "***".into())],
            subprotocols: vec!["v2.feed".into()],
            ping_interval_ms: 15_000,
            pong_timeout_ms: 10_000,
            ..Default::default()
        },
        replay: false,
        name: None,
        preset: None,
        app_ping: None,
        keymap: Default::default(),
        mouse: true,
        labels: String::new(),
    }
}

pub fn app() -> App {
    let mut a = App::new(opts(Theme::color()));
    a.now = at(0.0);
    a
}

pub fn ev(secs: f64, event: Event) -> Stamped {
    Stamped {
        at: at(secs),
        event,
    }
}

pub fn open_event(attempt: u32) -> Event {
    Event::Open(std::sync::Arc::new(OpenInfo {
        attempt,
        phases: Phases {
            dns: Duration::from_micros(2_140),
            tcp: Duration::from_micros(11_800),
            proxy: None,
            tls: Some(Duration::from_micros(24_300)),
            handshake: Duration::from_micros(9_900),
        },
        remote: SocketAddr::from(([203, 0, 113, 7], 443)),
        proxy: None,
        subprotocol: Some("v2.feed".into()),
        tls_version: Some("TLS 1.3"),
        cert: None,
    }))
}

pub fn text_in(text: &str) -> Event {
    Event::Message(Message {
        dir: Dir::In,
        kind: Kind::Text,
        data: text.to_string().into(),
        id: 0,
    })
}

pub fn text_out(id: u64, text: &str) -> Event {
    Event::Message(Message {
        dir: Dir::Out,
        kind: Kind::Text,
        data: text.to_string().into(),
        id,
    })
}

pub fn connecting(attempt: u32) -> Event {
    Event::Connecting {
        attempt,
        url: "wss://api.example.com/feed?token=***".into(),
    }
}

pub fn closed(by: ClosedBy, code: Option<u16>, reason: &str, uptime: u64) -> Event {
    Event::Closed(std::sync::Arc::new(CloseInfo {
        code,
        reason: reason.into(),
        by,
        uptime: Duration::from_secs(uptime),
        verdict: None,
    }))
}

pub fn key(code: KeyCode) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> TermEvent {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    TermEvent::Key(KeyEvent::new(KeyCode::Char(c), mods))
}

/// A key with modifiers: `with(KeyCode::Up, KeyModifiers::SHIFT)`.
pub fn with(code: KeyCode, mods: KeyModifiers) -> TermEvent {
    TermEvent::Key(KeyEvent::new(code, mods))
}

/// A function key.
pub fn fkey(n: u8) -> TermEvent {
    key(KeyCode::F(n))
}

/// Ctrl and a letter.
pub fn ctrl(c: char) -> TermEvent {
    with(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types a string into whatever has focus.
pub fn type_str(app: &mut App, s: &str) -> Vec<Effect> {
    s.chars().flat_map(|c| app.on_terminal(&ch(c))).collect()
}

/// A session: connect, open, some traffic with RTT samples.
pub fn healthy(app: &mut App) {
    app.apply(&[ev(0.0, connecting(1)), ev(0.05, open_event(1))]);
    for i in 0..40 {
        let t = 0.1 + i as f64 * 0.7;
        app.apply(&[ev(
            t,
            text_in(&format!(
                "{{\"type\":\"tick\",\"seq\":{i},\"price\":{}.25}}",
                100 + i % 7
            )),
        )]);
        if i % 4 == 0 {
            app.apply(&[ev(
                t + 0.01,
                Event::Rtt {
                    rtt: Duration::from_micros(18_000 + (i as u64 * 977) % 9_000),
                    app: false,
                },
            )]);
        }
    }
    app.apply(&[
        ev(30.0, text_out(1, "{\"subscribe\":\"WSM\"}")),
        ev(30.02, text_in("{\"subscribe\":\"WSM\",\"ok\":true}")),
    ]);
    app.apply(&[ev(
        31.0,
        Event::Message(Message {
            dir: Dir::In,
            kind: Kind::Binary,
            data: vec![0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 7, 0x1b, 0x5b].into(),
            id: 0,
        }),
    )]);
    app.tick(at(59.0));
    app.tick(at(60.0));
}
