//! Dashboard logic as pure state transitions: events and keys in, state and commands out.

use crate::common;

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

    a.on_terminal(&with(KeyCode::Up, KeyModifiers::SHIFT));
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
    a.on_terminal(&with(KeyCode::Home, KeyModifiers::CONTROL));
    assert_eq!(a.selected, Some(0));
    a.on_terminal(&with(KeyCode::End, KeyModifiers::CONTROL));
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
    a.on_terminal(&with(KeyCode::Up, KeyModifiers::SHIFT));
    a.on_terminal(&with(KeyCode::Up, KeyModifiers::ALT));
    assert_eq!(a.selected, Some(2));
    a.on_terminal(&with(KeyCode::Down, KeyModifiers::SHIFT));
    a.on_terminal(&with(KeyCode::Down, KeyModifiers::CONTROL));
    assert_eq!(a.selected, Some(4));
    a.on_terminal(&with(KeyCode::Down, KeyModifiers::SHIFT));
    assert!(a.following());
}

#[test]
fn filter_shows_only_one_kind() {
    let mut a = app();
    healthy(&mut a);
    a.on_terminal(&fkey(2));
    assert_eq!(a.filter, Filter::In);
    let shown = a.visible(100);
    assert!(
        !shown.is_empty()
            && shown
                .iter()
                .all(|s| a.log.get(*s).unwrap().origin == Origin::In)
    );
    a.on_terminal(&fkey(2));
    assert!(
        a.visible(100)
            .iter()
            .all(|s| a.log.get(*s).unwrap().origin == Origin::Out)
    );
    a.on_terminal(&fkey(2));
    let events = a.visible(100);
    assert_eq!(events.len(), 2, "connecting and open");
    a.on_terminal(&fkey(2));
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
    a.on_terminal(&fkey(3));
    assert_eq!(a.focus, Focus::Find);
    type_str(&mut a, "needle");
    a.on_terminal(&key(KeyCode::Enter));
    assert_eq!(a.focus, Focus::Input, "back to the input line");
    assert_eq!(a.selected, Some(3), "the newest hit, case-insensitive");
    a.on_terminal(&fkey(3));
    assert_eq!(a.selected, Some(1), "F3 again goes to the next older hit");
    a.on_terminal(&fkey(3));
    assert_eq!(a.selected, Some(1));
    assert!(a.current_status().unwrap().0.contains("no older match"));
    a.on_terminal(&with(KeyCode::F(3), KeyModifiers::SHIFT));
    assert_eq!(a.selected, Some(3));
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.search.is_none());
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.following());
}

#[test]
fn typed_lines_become_commands_and_errors_keep_the_line() {
    let mut a = app();
    assert_eq!(
        a.focus,
        Focus::Input,
        "a live dashboard types from the start"
    );
    type_str(&mut a, "hello");
    let cmds = a.on_terminal(&key(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Effect::Engine(Command::Emit {
            line: "hello".into()
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
    type_str(&mut a, "/record");
    assert_eq!(
        a.on_terminal(&key(KeyCode::Enter)),
        vec![Effect::ToggleRecording]
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
    assert_eq!(a.input.value(), "/record");
    a.on_terminal(&key(KeyCode::Esc));
    assert_eq!(a.focus, Focus::Input, "Esc does not take the keys away");
    assert_eq!(a.input.value(), "/record", "nor the line typed");
}

#[test]
fn typing_a_message_without_tab_sends_it_intact_and_runs_nothing() {
    for msg in [
        r#"{"subscribe":"prices"}"#,
        r#"{"quote":1}"#,
        "quit? pause, reconnect, record: q p R r d f g G ? / n N",
    ] {
        let mut a = app();
        healthy(&mut a);
        let effects = type_str(&mut a, msg);
        assert!(effects.is_empty(), "typing ran {effects:?}");
        assert!(!a.quit && a.overlay.is_none() && a.following());
        assert_eq!(a.input.value(), msg, "every character, the first too");
        assert_eq!(
            a.on_terminal(&key(KeyCode::Enter)),
            vec![Effect::Engine(Command::Emit {
                line: msg.to_string()
            })]
        );
    }
}

#[test]
fn a_key_that_does_nothing_says_so() {
    let mut a = app();
    a.on_terminal(&fkey(12));
    assert!(
        a.current_status()
            .unwrap()
            .0
            .contains("F12 does nothing here")
    );
    a.on_terminal(&ctrl('z'));
    assert!(
        a.current_status()
            .unwrap()
            .0
            .contains("Ctrl-Z does nothing here")
    );
}

#[test]
fn quitting_asks_first_when_a_recording_or_unsent_messages_would_end() {
    let mut a = app();
    a.on_terminal(&fkey(10));
    assert!(a.quit, "nothing to lose: quits at once");

    let mut a = app();
    a.apply(&[ev(
        0.0,
        Event::Queued {
            id: 1,
            kind: Kind::Text,
            data: "later".into(),
            queued: 1,
        },
    )]);
    type_str(&mut a, "half a line");
    a.on_terminal(&ctrl('c'));
    assert!(!a.quit);
    let Some(Overlay::Quit(why)) = &a.overlay else {
        panic!("asks first")
    };
    assert!(
        why.contains("1 queued message waiting") && why.contains("the line you typed"),
        "{why}"
    );
    a.on_terminal(&key(KeyCode::Esc));
    assert!(!a.quit && a.overlay.is_none(), "Esc keeps watching");
    assert_eq!(a.input.value(), "half a line");
    a.on_terminal(&ctrl('c'));
    a.on_terminal(&ch('y'));
    assert!(a.quit);
}

#[test]
fn only_rows_with_a_text_are_shown_and_counted() {
    let mut a = app();
    for (i, t) in ["alpha error", "beta", "ERROR gamma", "delta"]
        .iter()
        .enumerate()
    {
        a.apply(&[ev(i as f64, text_in(t))]);
    }
    a.apply(&[ev(4.0, text_out(1, "no error here"))]);
    a.on_terminal(&ctrl('g'));
    assert_eq!(a.focus, Focus::Grep);
    type_str(&mut a, "error");
    a.on_terminal(&key(KeyCode::Enter));
    assert_eq!(a.visible(10), [0, 2, 4]);
    assert_eq!(a.log.shown_count(a.filter), 3);
    a.on_terminal(&fkey(2));
    assert_eq!(a.visible(10), [0, 2], "and received only");
    a.apply(&[ev(5.0, text_in("another error"))]);
    assert_eq!(
        a.visible(10),
        [0, 2, 5],
        "new rows are matched as they come"
    );
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.grep.is_none());
    assert_eq!(a.visible(10), [0, 1, 2, 3, 5]);
}

#[test]
fn an_asked_ping_shows_its_ping_and_pong_and_the_heartbeat_only_when_asked() {
    let mut a = app();
    // What the log shows (hidden heartbeat rows are kept, not shown).
    let rows = |a: &wsmon::tui::app::App| -> Vec<String> {
        a.log
            .shown_from(0, a.filter)
            .map(|s| String::from_utf8_lossy(&a.log.get(s).unwrap().data).into_owned())
            .collect()
    };
    let beat = |secs: f64, seq: u64| {
        [
            ev(secs, Event::Ping { seq, app: false }),
            ev(
                secs + 0.001,
                Event::Rtt {
                    rtt: std::time::Duration::from_micros(340),
                    app: false,
                },
            ),
        ]
    };
    a.apply(&beat(1.0, 1));
    assert!(rows(&a).is_empty(), "the heartbeat is quiet by default");
    assert_eq!(a.on_terminal(&fkey(4)), vec![Effect::Engine(Command::Ping)]);
    a.apply(&beat(2.0, 2));
    assert_eq!(rows(&a), ["ping #2 sent", "pong 0.34 ms"]);
    a.apply(&beat(3.0, 3));
    assert_eq!(rows(&a).len(), 2, "only the asked one");
    // Shown, the heartbeat rows already there come back with the new ones.
    a.on_terminal(&fkey(9));
    a.apply(&beat(4.0, 4));
    assert_eq!(
        rows(&a),
        [
            "ping #1 sent",
            "pong 0.34 ms",
            "ping #2 sent",
            "pong 0.34 ms",
            "ping #3 sent",
            "pong 0.34 ms",
            "ping #4 sent",
            "pong 0.34 ms"
        ]
    );
    // Hidden again through the command: only the asked ones stay.
    type_str(&mut a, "/pings");
    a.on_terminal(&key(KeyCode::Enter));
    assert_eq!(rows(&a), ["ping #2 sent", "pong 0.34 ms"]);
}

#[test]
fn one_esc_returns_to_the_live_view() {
    let mut a = app();
    for i in 0..30 {
        a.apply(&[ev(i as f64, text_in(&format!("row {i}")))]);
    }
    type_str(&mut a, "/find row 3");
    a.on_terminal(&key(KeyCode::Enter));
    type_str(&mut a, "/grep row");
    a.on_terminal(&key(KeyCode::Enter));
    a.on_terminal(&with(KeyCode::Up, KeyModifiers::SHIFT));
    assert!(a.search.is_some() && a.grep.is_some() && !a.following());
    a.on_terminal(&key(KeyCode::Esc));
    assert!(a.search.is_none() && a.grep.is_none() && a.following());
    assert!(a.at_rest());
}

#[test]
fn slash_completes_and_lists_commands() {
    let mut a = app();
    type_str(&mut a, "/rec");
    a.on_terminal(&key(KeyCode::Tab));
    assert_eq!(
        a.input.value(),
        "/reco",
        "as far as reconnect and record agree"
    );
    a.on_terminal(&key(KeyCode::Tab));
    assert_eq!(a.input.value(), "/reco");
    type_str(&mut a, "n");
    a.on_terminal(&key(KeyCode::Tab));
    assert_eq!(a.input.value(), "/reconnect");
    a.input = tui_input::Input::new(String::new());
    type_str(&mut a, "/filt");
    a.on_terminal(&key(KeyCode::Tab));
    assert_eq!(
        a.input.value(),
        "/filter ",
        "a command with arguments gets its space"
    );
    a.input = tui_input::Input::new(String::new());
    type_str(&mut a, "hello");
    a.on_terminal(&key(KeyCode::Tab));
    assert_eq!(a.input.value(), "hello", "a message is not completed");
}

#[test]
fn chords_do_what_the_function_keys_do() {
    let mut a = app();
    assert_eq!(
        a.on_terminal(&ctrl('r')),
        vec![Effect::Engine(Command::Reconnect)]
    );
    assert_eq!(
        a.on_terminal(&ctrl('p')),
        vec![Effect::Engine(Command::Ping)]
    );
    assert_eq!(a.on_terminal(&ctrl('o')), vec![Effect::ToggleRecording]);
    assert_eq!(a.on_terminal(&ctrl('d')), vec![Effect::WriteReport]);
    a.on_terminal(&ctrl('c'));
    assert!(a.quit);
}

#[test]
fn the_detail_view_steps_through_messages_and_copies_one() {
    let mut a = app();
    for (i, t) in ["one", "two", "three"].iter().enumerate() {
        a.apply(&[ev(i as f64, text_in(t))]);
    }
    a.on_terminal(&key(KeyCode::Enter));
    let body = |a: &wsmon::tui::app::App| match &a.overlay {
        Some(Overlay::Detail(d)) => d.body.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(body(&a), "three");
    a.on_terminal(&key(KeyCode::Left));
    assert_eq!(body(&a), "two");
    a.on_terminal(&ch('p'));
    assert_eq!(body(&a), "one");
    a.on_terminal(&ch('p'));
    assert!(a.current_status().unwrap().0.contains("oldest"));
    a.on_terminal(&key(KeyCode::Right));
    assert_eq!(body(&a), "two");
    let copied = a.on_terminal(&ch('y'));
    assert_eq!(copied, vec![Effect::Copy("\u{1b}]52;c;dHdv\u{7}".into())]);
    a.on_terminal(&key(KeyCode::Esc));
    assert_eq!(a.selected, Some(1), "the log stays where the detail was");
}

#[test]
fn a_pasted_message_of_several_lines_keeps_its_newlines() {
    let mut a = app();
    a.on_terminal(&TermEvent::Paste("{\r\n  \"a\": 1\r\n}".into()));
    assert_eq!(a.input.value(), "{\n  \"a\": 1\n}");
    assert!(a.current_status().unwrap().0.contains("pasted 3 lines"));
    assert_eq!(
        a.on_terminal(&key(KeyCode::Enter)),
        vec![Effect::Engine(Command::Emit {
            line: "{\n  \"a\": 1\n}".into()
        })]
    );
}

#[test]
fn queued_sends_show_where_and_when_they_went_out() {
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
    a.apply(&[ev(1.0, open_event(2)), ev(24.0, text_out(7, "later"))]);
    assert_eq!(a.log.get(0).unwrap().status, Status::SentLater);
    assert_eq!(a.log.get(2).unwrap().status, Status::Waited(24));
    assert_eq!(&*a.log.get(2).unwrap().data, b"later");
    assert_eq!(
        &*a.log.get(3).unwrap().data,
        b"1 queued message sent after the reconnect"
    );
    assert_eq!(a.stats().queued, 0);

    a.apply(&[ev(
        2.0,
        Event::Dropped {
            id: 8,
            kind: Kind::Text,
            data: "too many".into(),
            len: 8,
            reason: DropReason::QueueFull,
        },
    )]);
    assert_eq!(
        a.log.get(4).unwrap().status,
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

    // Numbers are shown as they were on the wire, not re-encoded as floats.
    a.apply(&[ev(
        1.5,
        text_in(r#"{"n":12345678901234567890123,"p":0.10}"#),
    )]);
    a.on_terminal(&key(KeyCode::Enter));
    let Some(Overlay::Detail(d)) = &a.overlay else {
        panic!()
    };
    assert_eq!(
        (d.format, d.body.as_str()),
        (
            "JSON",
            "{\n  \"n\": 12345678901234567890123,\n  \"p\": 0.10\n}"
        )
    );
    a.on_terminal(&key(KeyCode::Esc));

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
    a.on_terminal(&with(KeyCode::Home, KeyModifiers::CONTROL));
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
    type_str(&mut a, "/clear");
    a.on_terminal(&key(KeyCode::Enter));
    assert!(a.log.is_empty());
    assert_eq!(a.stats().msgs_in, before);
}

#[test]
fn quit_keys_and_connection_keys() {
    let mut a = app();
    assert_eq!(a.on_terminal(&fkey(4)), vec![Effect::Engine(Command::Ping)]);
    assert_eq!(
        a.on_terminal(&fkey(5)),
        vec![Effect::Engine(Command::Reconnect)]
    );
    assert_eq!(a.on_terminal(&fkey(6)), vec![Effect::ToggleRecording]);
    assert_eq!(a.on_terminal(&fkey(7)), vec![Effect::WriteReport]);
    a.on_terminal(&ch('q'));
    assert!(!a.quit, "q is a letter");
    a.on_terminal(&key(KeyCode::Backspace));
    a.on_terminal(&ctrl('c'));
    assert!(a.quit, "Ctrl-C quits");
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

#[test]
fn an_outage_reads_as_a_story_in_the_log() {
    let mut a = app();
    let refused = || {
        Event::Error(std::sync::Arc::new(wsmon::engine::Failure::new(
            wsmon::engine::Cause::Refused,
            wsmon::engine::Phase::Tcp,
            wsmon::engine::Problem::ConnectRefused {
                addr: "10.0.0.5:443".parse().unwrap(),
                tried: 1,
            },
        )))
    };
    let retry = |attempt: u32| Event::Retry {
        attempt,
        delay: std::time::Duration::from_secs(2),
    };
    a.apply(&[ev(0.0, connecting(1)), ev(0.1, open_event(1))]);
    a.apply(&[
        ev(
            9.0,
            closed(wsmon::engine::ClosedBy::Server, Some(1012), "deploy", 9),
        ),
        ev(9.0, retry(1)),
        ev(11.0, connecting(1)),
        ev(11.0, refused()),
        ev(11.0, retry(2)),
        ev(13.0, connecting(2)),
        ev(13.0, refused()),
        ev(13.0, retry(3)),
        ev(15.0, connecting(3)),
        ev(15.0, refused()),
        ev(15.0, retry(4)),
        ev(17.0, connecting(4)),
        ev(17.1, open_event(4)),
    ]);
    let rows: Vec<String> = (a.log.first_seq()..a.log.end_seq())
        .map(|s| {
            let d = String::from_utf8_lossy(&a.log.get(s).unwrap().data).into_owned();
            d.lines().next().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(
        rows[2..],
        [
            "closed by server: 1012 service restart (deploy) after 9s · next try in 2s (attempt 1)",
            "connecting to wss://api.example.com/feed?token=***",
            "refused by 10.0.0.5:443: nothing is listening on that port ×3 · next try in 2s (attempt 4)",
            "down 8.1s: 1012 → refused ×3 → open; open: 203.0.113.7:443 in 48 ms, subprotocol v2.feed, TLS 1.3",
        ],
        "{rows:#?}"
    );
    let s = a.stats();
    // The Reconnects pane's timeline says the outage's sequence on one line.
    let periods = s.timeline.periods();
    assert_eq!(
        wsmon::describe::period(&periods[periods.len() - 2], a.now),
        "down 8.1s: 1012 → refused ×3 → open"
    );
    assert!(s.outage_began().is_none());
    assert_eq!(s.down_total(a.now), std::time::Duration::from_millis(8100));
}
