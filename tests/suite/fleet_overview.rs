//! The fleet overview as plain state and on a TestBackend: problems first, sorting,
//! filtering, drilling into an endpoint, typing and broadcast, and when it redraws.

use crate::common;

use std::time::Duration;

use common::ui::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use wsmon::engine::*;
use wsmon::tui::Screen;
use wsmon::tui::app::{App, Effect};
use wsmon::tui::fleet::{FleetApp, SortKey};
use wsmon::tui::theme::Theme;

fn member(name: &str) -> App {
    let mut o = opts(Theme::mono());
    o.name = Some(name.into());
    o.url = format!("wss://{name}.example.com/feed");
    let mut a = App::new(o);
    a.now = at(0.0);
    a
}

fn refused() -> Event {
    Event::Error(std::sync::Arc::new(Failure::new(
        Cause::Refused,
        Phase::Tcp,
        wsmon::engine::Problem::ConnectRefused {
            addr: "203.0.113.7:443".parse().unwrap(),
            tried: 1,
        },
    )))
}

/// Four endpoints: healthy, recently dropped and back, waiting after a refusal, given up.
fn fleet() -> FleetApp {
    let mut apps = vec![
        member("alpha"),
        member("bravo"),
        member("charlie"),
        member("delta"),
    ];
    healthy(&mut apps[0]);
    healthy(&mut apps[1]);
    apps[1].apply(&[
        ev(40.0, closed(ClosedBy::Server, Some(1012), "deploy", 40)),
        ev(40.2, connecting(1)),
        ev(40.2, refused()),
        ev(40.5, connecting(2)),
        ev(40.6, open_event(2)),
    ]);
    apps[2].apply(&[
        ev(0.0, connecting(1)),
        ev(0.01, refused()),
        ev(
            0.01,
            Event::Retry {
                attempt: 2,
                delay: Duration::from_secs(90),
            },
        ),
    ]);
    apps[3].apply(&[
        ev(0.0, connecting(1)),
        ev(0.01, refused()),
        ev(0.01, Event::GaveUp { attempts: 1 }),
    ]);
    let mut f = FleetApp::new(apps);
    f.set_now(at(62.0));
    for a in &mut f.apps {
        a.tick(at(61.0));
        a.tick(at(62.0));
    }
    f
}

/// Everything on the screen, row after row.
fn text_of(t: &Terminal<TestBackend>) -> String {
    t.backend()
        .buffer()
        .content
        .iter()
        .map(|c| c.symbol())
        .collect()
}

fn names(f: &FleetApp) -> Vec<&str> {
    f.order().into_iter().map(|i| f.name(i)).collect()
}

fn draw(f: &mut FleetApp, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|frame| f.draw(frame)).unwrap();
    t
}

#[test]
fn the_overview_puts_problems_first_and_sorts_and_filters_on_keys() {
    let mut f = fleet();
    assert_eq!(
        names(&f),
        ["delta", "charlie", "bravo", "alpha"],
        "gave up, down, recently failed, healthy"
    );
    let mut t = draw(&mut f, 130, 9);
    insta::assert_snapshot!(t.backend());
    assert_eq!(
        f.name(f.selected),
        "delta",
        "the cursor starts on the top row"
    );

    Screen::on_terminal(&mut f, &ch('s'));
    assert_eq!(
        (f.sort, names(&f)),
        (SortKey::Name, vec!["alpha", "bravo", "charlie", "delta"])
    );
    Screen::on_terminal(&mut f, &ch('s'));
    assert_eq!(f.sort, SortKey::Availability);
    assert_eq!(
        &names(&f)[2..],
        ["bravo", "alpha"],
        "the least available first"
    );
    Screen::on_terminal(&mut f, &ch('s'));
    Screen::on_terminal(&mut f, &ch('s'));
    assert_eq!(f.sort, SortKey::Reconnects);
    assert_eq!(names(&f)[0], "bravo");
    Screen::on_terminal(&mut f, &ch('s'));
    assert_eq!(f.sort, SortKey::Problems);

    // `/` filters by name as it is typed; Enter keeps it, Esc clears it.
    for c in "/ha.EX".chars() {
        Screen::on_terminal(&mut f, &ch(c));
    }
    assert_eq!(names(&f), ["alpha"], "case-insensitive, on the URL too");
    Screen::on_terminal(&mut f, &key(KeyCode::Enter));
    t = draw(&mut f, 130, 9);
    let text = text_of(&t);
    assert!(
        text.contains("filter `ha.EX`") && !text.contains("delta"),
        "{text}"
    );
    Screen::on_terminal(&mut f, &key(KeyCode::Esc));
    assert_eq!(names(&f).len(), 4);
}

#[test]
fn enter_drills_into_one_endpoint_and_esc_comes_back_only_when_nothing_is_open() {
    let mut f = fleet();
    draw(&mut f, 130, 20);
    Screen::on_terminal(&mut f, &key(KeyCode::Down));
    assert_eq!(f.name(f.selected), "charlie");
    let fx = Screen::on_terminal(&mut f, &ch('R'));
    assert_eq!(
        fx,
        [(2, Effect::Engine(Command::Reconnect))],
        "keys act on the selected endpoint"
    );
    Screen::on_terminal(&mut f, &key(KeyCode::Enter));
    assert_eq!(f.drilled, Some(2));
    let t = draw(&mut f, 100, 20);
    let text = text_of(&t);
    assert!(
        text.contains("charlie") && text.contains("Esc overview"),
        "{text}"
    );
    assert!(
        text.contains("refused by 203.0.113.7:443"),
        "the endpoint's own log: {text}"
    );

    // Esc first closes what is open in the dashboard (here the help), then goes back.
    Screen::on_terminal(&mut f, &key(KeyCode::F(1)));
    Screen::on_terminal(&mut f, &key(KeyCode::Esc));
    assert_eq!(f.drilled, Some(2), "Esc closed the help");
    Screen::on_terminal(&mut f, &key(KeyCode::Esc));
    assert_eq!((f.drilled, f.name(f.selected)), (None, "charlie"));
}

#[test]
fn typing_goes_to_the_focused_endpoint_and_broadcast_to_every_open_one() {
    let mut f = fleet();
    draw(&mut f, 130, 20);
    Screen::on_terminal(&mut f, &key(KeyCode::End));
    assert_eq!(f.name(f.selected), "alpha");
    Screen::on_terminal(&mut f, &key(KeyCode::Tab));
    assert_eq!(
        f.drilled,
        Some(0),
        "Tab opens the endpoint, ready to type, as Enter does"
    );
    // A typed line goes as typed: each engine puts it in its preset's form.
    let send = |t: &str| Command::Emit {
        line: t.to_string(),
    };
    let typed = |f: &mut FleetApp, s: &str| -> Vec<(usize, Effect)> {
        let mut fx: Vec<(usize, Effect)> = s
            .chars()
            .flat_map(|c| Screen::on_terminal(f, &ch(c)))
            .collect();
        fx.extend(Screen::on_terminal(f, &key(KeyCode::Enter)));
        fx
    };
    assert_eq!(typed(&mut f, "hi"), [(0, Effect::Engine(send("hi")))]);
    let fx = typed(&mut f, "/broadcast all hands");
    assert_eq!(
        fx,
        [
            (0, Effect::Engine(send("all hands"))),
            (1, Effect::Engine(send("all hands")))
        ],
        "only alpha and bravo are open"
    );
    let status = f.apps[0].current_status().unwrap().0.to_string();
    assert_eq!(
        status,
        "broadcast to 2 open endpoints; not sent to charlie, delta (not open)"
    );
}

#[test]
fn the_overview_redraws_for_state_changes_not_for_every_heartbeat() {
    let mut f = fleet();
    let rtt = |t: f64| {
        ev(
            t,
            Event::Rtt {
                rtt: Duration::from_millis(2),
                app: false,
            },
        )
    };
    assert!(
        !f.apply(0, &[rtt(63.0)]),
        "an RTT sample waits for the clock"
    );
    assert!(
        f.apply(0, &[ev(63.5, closed(ClosedBy::Server, Some(1001), "", 63))]),
        "a drop shows at once"
    );
    Screen::on_terminal(&mut f, &key(KeyCode::Enter));
    let shown = f.drilled.expect("an endpoint is open");
    let other = (shown + 1) % f.apps.len();
    assert!(
        f.apply(shown, &[rtt(64.0)]),
        "the endpoint on screen redraws at once"
    );
    assert!(!f.apply(other, &[rtt(64.0)]));
}

#[test]
fn the_cursor_stays_on_its_endpoint_when_the_rows_move() {
    let mut f = fleet();
    draw(&mut f, 130, 20);
    assert_eq!(names(&f), ["delta", "charlie", "bravo", "alpha"]);
    Screen::on_terminal(&mut f, &key(KeyCode::End));
    assert_eq!(f.name(f.selected), "alpha");
    // alpha drops: it moves up among the problems (below those seen down), and the cursor
    // goes with it.
    f.apps[0].apply(&[
        ev(62.0, closed(ClosedBy::Server, Some(1012), "deploy", 62)),
        ev(
            62.0,
            Event::Retry {
                attempt: 1,
                delay: Duration::from_secs(5),
            },
        ),
    ]);
    let t = draw(&mut f, 130, 20);
    assert_eq!(names(&f)[..3], ["delta", "charlie", "alpha"]);
    assert_eq!(
        f.name(f.selected),
        "alpha",
        "the cursor followed its endpoint"
    );
    let text = text_of(&t);
    assert!(
        text.contains("›alpha"),
        "and the marker is on its row: {text}"
    );
    // The room under the rows shows the selected endpoint.
    assert!(
        text.contains("wss://alpha.example.com/feed") && text.contains("Reconnects"),
        "{text}"
    );
}
