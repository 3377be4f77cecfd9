//! What the dashboard looks like in its main states, drawn into a TestBackend.

use crate::common;

use std::time::Duration;

use common::ui::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::Color;
use wsmon::engine::{Cause, ClosedBy, Event, Failure, HttpFailure, Phase};
use wsmon::tui::app::App;
use wsmon::tui::theme::Theme;

fn draw(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    wsmon::tui::prepare(app, ratatui::layout::Rect::new(0, 0, w, h));
    terminal.draw(|f| f.render_widget(&*app, f.area())).unwrap();
    terminal
}

fn text_of(buf: &Buffer) -> String {
    buf.content.iter().map(|c| c.symbol()).collect()
}

#[test]
fn open_80x24() {
    let mut a = app();
    healthy(&mut a);
    let t = draw(&mut a, 80, 24);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn open_wide_160x40() {
    let mut a = app();
    healthy(&mut a);
    let t = draw(&mut a, 160, 40);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn small_terminal_60x16_uses_a_summary_line() {
    let mut a = app();
    healthy(&mut a);
    let t = draw(&mut a, 60, 16);
    let text = text_of(t.backend().buffer());
    assert!(text.contains("rtt") && text.contains("reconnects"));
    insta::assert_snapshot!(t.backend());
}

fn waiting(a: &mut App) {
    healthy(a);
    a.apply(&[
        ev(61.0, closed(ClosedBy::Server, Some(1012), "deploy 42", 61)),
        ev(
            61.0,
            Event::Retry {
                attempt: 1,
                delay: Duration::from_millis(600),
            },
        ),
        ev(61.6, connecting(1)),
        ev(
            61.6,
            Event::Error(std::sync::Arc::new(Failure::new(
                Cause::Refused,
                Phase::Tcp,
                wsmon::engine::Problem::ConnectRefused {
                    addr: "203.0.113.7:443".parse().unwrap(),
                    tried: 1,
                },
            ))),
        ),
        ev(
            61.6,
            Event::Retry {
                attempt: 2,
                delay: Duration::from_secs(8),
            },
        ),
    ]);
    a.now = at(65.4);
}

#[test]
fn waiting_to_retry_with_countdown() {
    let mut a = app();
    waiting(&mut a);
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    assert!(
        text.contains("WAITING 4.2s"),
        "the countdown is in the title"
    );
    assert!(text.contains("next try in 4.2s (attempt 2)"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn http_failure() {
    let mut a = app();
    let mut f = Failure::new(
        Cause::Http,
        Phase::Upgrade,
        wsmon::engine::Problem::UpgradeRefused,
    );
    f.http = Some(HttpFailure {
        status: 401,
        reason: "Unauthorized".into(),
        headers: vec![
            ("Content-Type".into(), "text/plain".into()),
            (
                "WWW-Authenticate".into(),
                "Bearer realm=\"api\", error=\"invalid_token\"".into(),
            ),
            ("Set-Cookie".into(), "***".into()),
        ],
        body: "token expired\nplease sign in again".into(),
        body_truncated: false,
    });
    a.apply(&[
        ev(0.0, connecting(1)),
        ev(0.1, Event::Error(std::sync::Arc::new(f))),
        ev(
            0.1,
            Event::Retry {
                attempt: 2,
                delay: Duration::from_millis(900),
            },
        ),
    ]);
    a.now = at(0.5);
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    assert!(text.contains("HTTP 401 Unauthorized: token expired"));
    insta::assert_snapshot!("http_failure", t.backend());
    // F8 opens the last failure: the status, headers and body, and what was sent.
    a.on_terminal(&key(KeyCode::F(8)));
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    assert!(
        text.contains("Authorization: ***"),
        "the request headers sent, masked: {text}"
    );
    insta::assert_snapshot!("http_failure_detail", t.backend());
}

#[test]
fn flood_with_paused_log() {
    let mut o = opts(Theme::color());
    o.log_capacity = 1000;
    let mut a = App::new(o);
    a.apply(&[ev(0.0, connecting(1)), ev(0.01, open_event(1))]);
    let batch: Vec<_> = (0..5000)
        .map(|i| {
            ev(
                1.0 + i as f64 / 5000.0,
                text_in(&format!("{{\"seq\":{i},\"data\":\"{}\"}}", "x".repeat(40))),
            )
        })
        .collect();
    a.apply(&batch[..3000]);
    for _ in 0..5 {
        a.on_terminal(&with(KeyCode::Up, KeyModifiers::SHIFT));
    }
    a.apply(&batch[3000..]);
    a.tick(at(1.0));
    a.tick(at(2.0));
    a.now = at(2.0);
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    assert!(
        text.contains("paused, 2,000 new"),
        "the pause says how many arrived"
    );
    assert!(text.contains("4,002 dropped from view"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn detail_of_a_json_message() {
    let mut a = app();
    healthy(&mut a);
    a.apply(&[ev(61.0, text_in("{\"type\":\"order\",\"id\":\"A-17\",\"lines\":[{\"sku\":\"WSM-1\",\"qty\":2},{\"sku\":\"WSM-9\",\"qty\":1}],\"paid\":true}"))]);
    a.now = at(62.0);
    a.on_terminal(&key(KeyCode::Enter));
    let t = draw(&mut a, 80, 24);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn help() {
    let mut a = app();
    healthy(&mut a);
    a.on_terminal(&key(KeyCode::F(1)));
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    for needle in [
        "F10 Ctrl-C       /quit: quit",
        "Shift-↑ Shift-↓",
        "PgUp PgDn scroll · 1-22 of",
    ] {
        assert!(text.contains(needle), "help at 80x24 shows {needle}");
    }
    insta::assert_snapshot!(t.backend());
    // What does not fit is a page down.
    a.on_terminal(&key(KeyCode::PageDown));
    a.on_terminal(&key(KeyCode::PageDown));
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    for needle in [
        "/binary <hex>",
        "/raw <text>",
        "F5 Ctrl-R        /reconnect",
        "/mouse: mouse off",
        "F8 Ctrl-L",
    ] {
        assert!(
            text.contains(needle),
            "the help's second page shows {needle}: {text}"
        );
    }
}

#[test]
fn no_color_is_monochrome_and_still_clear() {
    let mut a = App::new(opts(Theme::mono()));
    a.now = at(0.0);
    waiting(&mut a);
    let t = draw(&mut a, 80, 24);
    let buf = t.backend().buffer();
    for cell in &buf.content {
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Reset, Color::Reset),
            "NO_COLOR: no colour anywhere"
        );
    }
    assert!(
        buf.content
            .iter()
            .any(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED)),
        "the badge is reversed instead"
    );
    insta::assert_snapshot!(t.backend());
}

#[test]
fn control_characters_never_reach_the_terminal() {
    let mut a = app();
    a.apply(&[ev(
        0.0,
        text_in("\u{1b}]0;owned\u{7}\u{1b}[2J\r\u{202e}gnp.exe\u{9b}"),
    )]);
    a.now = at(1.0);
    let t = draw(&mut a, 80, 24);
    let buf = t.backend().buffer();
    for cell in &buf.content {
        assert!(
            cell.symbol()
                .chars()
                .all(|c| !c.is_control() && c != '\u{202e}'),
            "raw {:?} in a cell",
            cell.symbol()
        );
    }
    assert!(text_of(buf).contains("\\e]0;owned\\x07\\e[2J\\r\\u{202e}gnp.exe\\x9b"));
}

#[test]
fn every_size_from_tiny_to_huge_draws_what_fits() {
    let mut a = app();
    waiting(&mut a);
    for (w, h) in [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (59, 24),
        (80, 24),
        (100, 30),
        (149, 50),
        (200, 60),
    ] {
        let t = draw(&mut a, w, h);
        let text = text_of(t.backend().buffer());
        assert_eq!(
            text.chars().count(),
            usize::from(w) * usize::from(h),
            "{w}x{h}"
        );
        // The title, the state and the input line are what a screen of any usable size keeps.
        if w >= 40 && h >= 10 {
            assert!(text.contains("wsmon"), "{w}x{h}: the title\n{text}");
            assert!(text.contains("WAITING"), "{w}x{h}: the state\n{text}");
        }
        if w >= 80 && h >= 24 {
            assert!(
                text.contains("next try in"),
                "{w}x{h}: the countdown\n{text}"
            );
        }
    }
}

/// A Socket.IO feed: the namespace joined, events decoded in the log, the server's heartbeat
/// answered (collapsed into one row), an application heartbeat measured, then silence.
fn socketio_gone_quiet(a: &mut App) {
    a.opts.preset = Some(wsmon::engine::Preset::SocketIo);
    a.opts.app_ping = Some("42[\"ping\"]".into());
    a.apply(&[
        ev(0.0, connecting(1)),
        ev(0.05, open_event(1)),
        ev(
            0.06,
            text_in(r#"0{"sid":"Xy1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}"#),
        ),
        ev(0.06, text_out(0, "40")),
        ev(0.07, text_in(r#"40{"sid":"Qe7"}"#)),
        ev(
            0.07,
            Event::Ready {
                protocol: "socketio",
                detail: "joined / · server pings every 25s, gone after 45s without one · sid Qe7"
                    .into(),
                offsets: false,
            },
        ),
        ev(0.08, text_out(1, r#"42["subscribe",{"room":"prices"}]"#)),
    ]);
    for i in 0..6 {
        let t = 1.0 + i as f64;
        a.apply(&[ev(
            t,
            text_in(&format!(
                r#"42["price",{{"sym":"WSM","px":{}.5}}]"#,
                100 + i
            )),
        )]);
    }
    for (i, t) in [25.0, 50.0].into_iter().enumerate() {
        a.apply(&[ev(
            t,
            Event::AutoReply {
                received: "2".into(),
                sent: "3".into(),
                count: i as u64 + 1,
            },
        )]);
    }
    a.apply(&[
        ev(30.0, Event::Ping { seq: 1, app: true }),
        ev(
            30.02,
            Event::Rtt {
                rtt: Duration::from_millis(21),
                app: true,
            },
        ),
        ev(
            46.0,
            Event::Stale {
                silent: Duration::from_secs(40),
            },
        ),
    ]);
    a.tick(at(52.0));
}

#[test]
fn stale_socketio_feed_80x24() {
    let mut a = app();
    socketio_gone_quiet(&mut a);
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    assert!(
        text.contains("STALE 46s"),
        "the state word says STALE and for how long: {text}"
    );
    assert!(
        text.contains(r#"price {"px":105.5,"sym":"WSM"}"#)
            || text.contains(r#"price {"sym":"WSM","px":105.5}"#)
    );
    insta::assert_snapshot!(t.backend());
}

#[test]
fn stale_socketio_feed_120x40() {
    let mut a = app();
    socketio_gone_quiet(&mut a);
    let t = draw(&mut a, 120, 40);
    let text = text_of(t.backend().buffer());
    assert!(
        text.contains("app rtt"),
        "the application heartbeat has its own line"
    );
    assert!(text.contains("STALE: no data for 46s"));
    insta::assert_snapshot!(t.backend());
}

/// Where one looks first, a failure is never cut without a mark: it wraps when the pane has
/// room, and ends in `…` when it has not.
#[test]
fn failure_rows_wrap_or_end_in_an_ellipsis() {
    let tls =
        "the server closed the connection during the TLS handshake (is this a plain ws:// port?)";
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut a = app();
        a.apply(&[
            ev(0.0, connecting(1)),
            ev(
                0.1,
                Event::Error(std::sync::Arc::new(Failure::new(
                    Cause::Tls,
                    Phase::Tls,
                    wsmon::engine::Problem::Recorded {
                        message: tls.into(),
                        fix: None,
                    },
                ))),
            ),
            ev(
                0.1,
                Event::Retry {
                    attempt: 2,
                    delay: Duration::from_secs(2),
                },
            ),
        ]);
        a.now = at(0.5);
        let t = draw(&mut a, w, h);
        let buf = t.backend().buffer();
        let rows: Vec<String> = (0..h)
            .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect();
        let full: Vec<char> = format!("TLS: {tls}").chars().collect();
        for (i, row) in rows.iter().enumerate() {
            let chars: Vec<char> = row.chars().collect();
            for p in (0..chars.len()).filter(|p| chars[*p..].starts_with(&full[..15])) {
                // As much of the message as the row shows from there...
                let k = full
                    .iter()
                    .zip(&chars[p..])
                    .take_while(|(a, b)| a == b)
                    .count();
                let rest: String = full[k..].iter().collect();
                let next = rows.get(i + 1).map_or("", |r| r.as_str());
                // ...then the whole of it, or `…`, or the rest on the next row.
                assert!(
                    k == full.len()
                        || chars.get(p + k) == Some(&'…')
                        || next.contains(rest.trim_start().get(..10).unwrap_or("")),
                    "{w}x{h}: cut without a mark: {row:?}"
                );
            }
        }
        if w == 120 {
            assert!(
                rows.iter().any(|r| r.contains("last    TLS: the server"))
                    && rows.iter().any(|r| r.contains("port?)")),
                "at 120x40 the Connection pane has room for the whole hint:\n{}",
                rows.join("\n")
            );
        }
    }
}

/// The bottom row of a drawn screen.
fn last_row(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let w = buf.area.width as usize;
    let text: Vec<&str> = buf.content.iter().map(|c| c.symbol()).collect();
    text[text.len() - w..].concat()
}

#[test]
fn the_footer_always_offers_help_and_quit() {
    for paused in [false, true] {
        for w in [60u16, 80, 100, 120, 160, 200] {
            let mut a = app();
            healthy(&mut a);
            if paused {
                a.on_terminal(&with(KeyCode::Up, KeyModifiers::SHIFT));
            }
            let t = draw(&mut a, w, 24);
            let footer = last_row(&t);
            assert!(
                footer.contains("/help") && footer.contains("/quit"),
                "{w} columns, paused {paused}: {footer}"
            );
        }
    }
}

#[test]
fn typing_a_slash_lists_the_commands_that_match() {
    let mut a = app();
    healthy(&mut a);
    type_str(&mut a, "/re");
    let t = draw(&mut a, 80, 24);
    let text = text_of(t.backend().buffer());
    for needle in [
        "commands · Tab completes",
        "/reconnect",
        "F5 Ctrl-R",
        "/record",
        "/report",
    ] {
        assert!(text.contains(needle), "the / list shows {needle}");
    }
    assert!(!text.contains("/ping "), "only what matches /re");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn a_long_notice_wraps_above_the_keys_rather_than_cutting_a_path() {
    let mut a = app();
    healthy(&mut a);
    let path = "/home/field-engineer/.local/share/wsmon/recordings/wsmon-20261204T123813Z.jsonl";
    a.say(
        wsmon::tui::log::Level::Good,
        format!("recording to {path} (F6 again stops)"),
    );
    let t = draw(&mut a, 80, 24);
    let rows: Vec<String> = (0..24)
        .map(|y| {
            (0..80)
                .map(|x| t.backend().buffer()[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect();
    let bottom = rows[21..].concat();
    assert!(
        bottom.replace(' ', "").contains(&path.replace(' ', "")),
        "the whole path in the footer:\n{}",
        rows[20..].join("\n")
    );
    assert!(
        rows[23].contains("/help") && rows[23].contains("/quit"),
        "{}",
        rows[23]
    );
}
