//! Dashboard logic as pure state transitions: events and keys in, state and commands out.

mod common;

use common::ui::*;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use wsmon::engine::{Command, DropReason, Event, Kind};
use wsmon::tui::app::{Effect, Focus, Overlay};
use wsmon::tui::log::{Filter, Origin, Status};

#[test]
fn follows_new_messages_until_scrolled_up_then_counts_what_arrives() {
    let mut a = app();
    for i in 0..100 {
        a.apply(&[ev(i as f64, text_in(&format!("m{i}")))]);
    }
    a.sync_view(10);
    assert_eq!(a.visible(10), (90..100).collect::<Vec<u64>>());
    assert!(a.following());

    a.on_terminal(&key(KeyCode::Up));
    assert_eq!(a.selected, Some(98));
    for i in 100..105 {
        a.apply(&[ev(i as f64, text_in(&format!("m{i}")))]);
    }
    assert_eq!(
        a.paused_new, 5,
        "the title says how many arrived while paused"
    );
    a.sync_view(10);
    assert!(a.visible(10).contains(&98), "the selection stays in view");
    assert!(
        !a.visible(10).contains(&104),
        "new messages do not scroll a paused view"
    );

    a.on_terminal(&key(KeyCode::PageUp));
    assert_eq!(a.selected, Some(89), "a page is the viewport minus one row");
    a.on_terminal(&ch('g'));
    assert_eq!(a.selected, Some(0));
    a.on_terminal(&key(KeyCode::End));
    assert!(a.following());
    assert_eq!(a.paused_new, 0);
    a.sync_view(10);
    assert_eq!(*a.visible(10).last().unwrap(), 104);
}

#[test]
fn scrolling_down_past_the_newest_follows_again() {
    let mut a = app();
    for i in 0..5 {
        a.apply(&[ev(i as f64, text_in("x"))]);
    }
    a.on_terminal(&ch('k'));
    a.on_terminal(&ch('k'));
    assert_eq!(a.selected, Some(2));
    a.on_terminal(&ch('j'));
    a.on_terminal(&ch('j'));
    assert_eq!(a.selected, Some(4));
    a.on_terminal(&ch('j'));
    assert!(a.following());
}

#[test]
fn filter_shows_only_one_kind() {
    let mut a = app();
    healthy(&mut a);
    a.on_terminal(&ch('f'));
    assert_eq!(a.filter, Filter::In);
    let shown = a.visible(100);
    assert!(
        !shown.is_empty()
            && shown
                .iter()
                .all(|s| a.log.get(*s).unwrap().origin == Origin::In)
    );
    a.on_terminal(&ch('f'));
    assert!(
        a.visible(100)
            .iter()
            .all(|s| a.log.get(*s).unwrap().origin == Origin::Out)
    );
    a.on_terminal(&ch('f'));
    let events = a.visible(100);
    assert_eq!(events.len(), 2, "connecting and open");
    a.on_terminal(&ch('f'));
    assert_eq!(a.filter, Filter::All);
}

#[test]
fn search_jumps_between_hits() {
    let mut a = app();
    for (i, t) in ["alpha", "needle one", "beta", "NEEDLE two", "gamma"]
        .iter()
        .enumerate()
    {
        a.apply(&[ev(i as f64, text_in(t))]);
    }
    a.on_terminal(&ch('/'));
    assert_eq!(a.focus, Focus::Search);
    type_str(&mut a, "needle");
    a.on_terminal(&key(KeyCode::Enter));
    assert_eq!(a.focus, Focus::Log);
    assert_eq!(a.selected, Some(3), "the newest hit, case-insensitive");
    a.on_terminal(&ch('n'));
    assert_eq!(a.selected, Some(1), "n goes to the next older hit");
    a.on_terminal(&ch('n'));
    assert_eq!(a.selected, Some(1));
    assert!(a.current_status().unwrap().0.contains("no older match"));
    a.on_terminal(&TermEvent::Key(KeyEvent::new(
        KeyCode::Char('N'),
        KeyModifiers::SHIFT,
    )));
    assert_eq!(a.selected, Some(3));
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.search.is_none());
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.following());
}

#[test]
fn typed_lines_become_commands_and_errors_keep_the_line() {
    let mut a = app();
    a.on_terminal(&key(KeyCode::Tab));
    assert_eq!(a.focus, Focus::Input);
    type_str(&mut a, "hello");
    let cmds = a.on_terminal(&key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Effect::Engine(Command::Send {
            kind: Kind::Text,
            data: "hello".into()
        })]
    );
    assert_eq!(a.input.value(), "");

    type_str(&mut a, "/close 4000 bye");
    assert_eq!(
        a.on_terminal(&key(KeyCode::Enter)),
        vec![Effect::Engine(Command::Close {
            code: 4000,
            reason: "bye".into()
        })]
    );
    type_str(&mut a, "/ping");
    assert_eq!(
        a.on_terminal(&key(KeyCode::Enter)),
        vec![Effect::Engine(Command::Ping)]
    );

    type_str(&mut a, "/binary zz");
    assert!(a.on_terminal(&key(KeyCode::Enter)).is_empty());
    assert_eq!(
        a.input.value(),
        "/binary zz",
        "a bad command is given back to fix"
    );
    assert!(
        a.current_status()
            .unwrap()
            .0
            .contains("`zz` is not a hex byte")
    );

    // History: Up brings back earlier lines.
    a.on_terminal(&TermEvent::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    a.on_terminal(&key(KeyCode::Up));
    assert_eq!(a.input.value(), "/binary zz");
    a.on_terminal(&key(KeyCode::Up));
    assert_eq!(a.input.value(), "/ping");
    a.on_terminal(&key(KeyCode::Esc));
    assert_eq!(a.focus, Focus::Log);
}

#[test]
fn queued_sends_show_as_queued_then_sent_without_a_second_row() {
    let mut a = app();
    a.apply(&[ev(
        0.0,
        Event::Queued {
            id: 7,
            kind: Kind::Text,
            data: "later".into(),
            queued: 1,
        },
    )]);
    assert_eq!(a.log.get(0).unwrap().status, Status::Queued);
    assert_eq!(a.stats().queued, 1);
    a.apply(&[ev(1.0, open_event(2)), ev(1.0, text_out(7, "later"))]);
    assert_eq!(a.log.len(), 2, "the open event and the one message row");
    assert_eq!(a.log.get(0).unwrap().status, Status::Plain);
    assert_eq!(a.stats().queued, 0);

    a.apply(&[ev(
        2.0,
        Event::Dropped {
            id: 8,
            kind: Kind::Text,
            data: "too many".into(),
            reason: DropReason::QueueFull,
        },
    )]);
    assert_eq!(
        a.log.get(2).unwrap().status,
        Status::NotSent(DropReason::QueueFull)
    );
    assert!(a.current_status().unwrap().0.contains("send queue full"));
}

#[test]
fn detail_view_picks_json_hex_or_text() {
    let mut a = app();
    a.apply(&[ev(0.0, text_in("{\"b\":1,\"a\":[true,null]}"))]);
    a.on_terminal(&key(KeyCode::Enter));
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!("detail expected")
    };
    assert_eq!(d.format, "JSON");
    assert_eq!(
        d.body, "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null\n  ]\n}",
        "key order is kept"
    );
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.overlay.is_none());

    a.apply(&[ev(
        1.0,
        wsmon::engine::Event::Message(wsmon::engine::Message {
            dir: wsmon::engine::Dir::In,
            kind: Kind::Binary,
            data: vec![0x41, 0x00].into(),
            id: 0,
        }),
    )]);
    a.on_terminal(&key(KeyCode::Enter));
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!()
    };
    assert_eq!(
        (d.format, d.body.as_str()),
        (
            "hex",
            "00000000  41 00                                             |A.|\n"
        )
    );
    a.on_terminal(&ch('q'));

    a.apply(&[ev(2.0, text_in("line one\n\u{1b}[2Jline two"))]);
    a.on_terminal(&key(KeyCode::Enter));
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!()
    };
    assert_eq!(
        (d.format, d.body.as_str()),
        ("text", "line one\n\\e[2Jline two")
    );
}

#[test]
fn the_ring_is_bounded_and_counts_what_it_dropped() {
    let mut o = opts(wsmon::tui::theme::Theme::color());
    o.log_capacity = 100;
    let mut a = wsmon::tui::app::App::new(o);
    for i in 0..10 {
        a.apply(&[ev(i as f64, text_in("x"))]);
    }
    a.on_terminal(&ch('g'));
    assert_eq!(a.selected, Some(0));
    let batch: Vec<_> = (0..1000)
        .map(|i| ev(10.0 + i as f64, text_in("y")))
        .collect();
    a.apply(&batch);
    assert_eq!(a.log.len(), 100);
    assert_eq!(a.log.evicted(), 910);
    assert_eq!(
        a.selected,
        Some(910),
        "a selection that was evicted moves to the oldest kept"
    );
    assert_eq!(
        a.stats().msgs_in,
        1010,
        "counters count everything, not just what is kept"
    );
}

#[test]
fn clear_empties_the_log_but_not_the_counters() {
    let mut a = app();
    healthy(&mut a);
    let before = a.stats().msgs_in;
    a.on_terminal(&key(KeyCode::Tab));
    type_str(&mut a, "/clear");
    a.on_terminal(&key(KeyCode::Enter));
    assert!(a.log.is_empty());
    assert_eq!(a.stats().msgs_in, before);
}

#[test]
fn quit_keys_and_connection_keys() {
    let mut a = app();
    assert_eq!(a.on_terminal(&ch('p')), vec![Effect::Engine(Command::Ping)]);
    assert_eq!(
        a.on_terminal(&TermEvent::Key(KeyEvent::new(
            KeyCode::Char('R'),
            KeyModifiers::SHIFT
        ))),
        vec![Effect::Engine(Command::Reconnect)]
    );
    a.on_terminal(&ch('q'));
    assert!(a.quit);
    let mut a = app();
    a.on_terminal(&key(KeyCode::Tab));
    a.on_terminal(&TermEvent::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(a.quit, "Ctrl-C quits even while typing");
}

#[test]
fn key_releases_are_ignored() {
    let mut a = app();
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = ratatui::crossterm::event::KeyEventKind::Release;
    a.on_terminal(&TermEvent::Key(release));
    assert!(!a.quit);
}

#[test]
fn a_run_of_auto_replies_is_one_row_counting_its_own_run() {
    let mut a = app();
    let reply = |n: u64| Event::AutoReply {
        received: "2".into(),
        sent: "3".into(),
        count: n,
    };
    a.apply(&[ev(0.0, reply(1)), ev(1.0, reply(2)), ev(2.0, reply(3))]);
    a.apply(&[ev(2.5, text_in("data"))]);
    a.apply(&[ev(3.0, reply(4)), ev(4.0, reply(5))]);
    let rows: Vec<String> = (a.log.first_seq()..a.log.end_seq())
        .map(|s| String::from_utf8_lossy(&a.log.get(s).unwrap().data).into_owned())
        .collect();
    assert_eq!(
        rows,
        [
            "auto-reply `3` to `2` ×3",
            "data",
            "auto-reply `3` to `2` ×2"
        ],
        "the second row counts its own run, not the connection's replies"
    );
}
