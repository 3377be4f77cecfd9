//! Turning payloads and numbers into text, shared by every frontend (dashboard, headless,
//! report) and by the engine's messages: control characters escaped, durations, sizes,
//! counts, timestamps, hex dumps and pretty JSON.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

pub use wsmon_engine::fmt::{
    Segment, count, counted, duration, parse_hex, preview_hex, sanitize, segments,
};

/// Text for a multi-line view: newlines kept, other unsafe characters escaped, tabs expanded.
pub(crate) fn sanitize_multiline(text: &str) -> String {
    text.split('\n')
        .map(|line| sanitize(&line.replace('\t', "    ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The start of a payload as text: lossy UTF-8 of at most `max_bytes` bytes.
pub(crate) fn preview_text(data: &[u8], max_bytes: usize) -> Cow<'_, str> {
    let cut = &data[..data.len().min(max_bytes)];
    match std::str::from_utf8(cut) {
        Ok(s) => Cow::Borrowed(s),
        // A cut in the middle of a character is not an error of the payload.
        Err(e) if e.error_len().is_none() => {
            Cow::Borrowed(std::str::from_utf8(&cut[..e.valid_up_to()]).unwrap_or(""))
        }
        Err(_) => String::from_utf8_lossy(cut),
    }
}

/// `xxd`-style dump: offset, 16 bytes in hex, and their printable ASCII.
pub(crate) fn hexdump(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 + 16);
    for (i, chunk) in data.chunks(16).enumerate() {
        out.push_str(&format!("{:08x}  ", i * 16));
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => out.push_str(&format!("{b:02x} ")),
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(chunk.iter().map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

/// Pretty-printed JSON, if the payload is a JSON object or array. Only the white space
/// changes: numbers, strings and key order stay exactly as they were on the wire
/// (`0.10` stays `0.10`, `12345678901234567890123` is not rounded into a float).
pub fn pretty_json(data: &[u8]) -> Option<String> {
    let first = data.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    let text = std::str::from_utf8(data).ok()?;
    // Valid JSON first; the re-indenting below trusts its structure.
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    out.push(c);
                    match c {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '{' | '[' => {
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// `2026-11-25T17:33:57.123Z`: RFC 3339 in UTC with milliseconds, the JSON lines' `ts`.
pub fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// A Unix time as its date: `2026-12-01`.
pub(crate) fn unix_date(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_string()
}

/// The time from `a` to `b` to the millisecond, each end taken to the millisecond as a
/// recording keeps it: a live session and its replay say the same.
pub fn between(a: SystemTime, b: SystemTime) -> Duration {
    let ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    };
    Duration::from_millis(ms(b).saturating_sub(ms(a)) as u64)
}

/// `HH:MM:SS.mmm` (UTC).
pub(crate) fn clock_millis(at: SystemTime) -> String {
    timestamp(at)[11..23].to_string()
}

/// `HH:MM:SS` (UTC).
pub fn clock(at: SystemTime) -> String {
    timestamp(at)[11..19].to_string()
}

/// How long ago: `420ms ago`, `4m13s ago`; under a millisecond, `<1ms ago`.
pub fn ago(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        "<1ms ago".to_string()
    } else {
        format!("{} ago", duration(d))
    }
}

/// Milliseconds with a sensible precision: `0.42`, `3.1`, `12`.
pub(crate) fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{ms:.2}")
    } else if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// A size as it is written in config: in the largest binary unit that divides it (`64MiB`,
/// `512KiB`, `1000B`), so it reads back exactly.
pub fn size(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{}{unit}", n >> shift);
        }
    }
    format!("{n}B")
}

/// A speed factor without trailing zeros: `10`, `0.5`.
pub fn speed(factor: f64) -> String {
    let s = format!("{factor:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A byte count: `512B`, `1.2KiB`, `3.4MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if v < 10.0 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{v:.0}{}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            sanitize("a\u{1b}[31mred\u{7}\u{7f}"),
            "a\\e[31mred\\x07\\x7f"
        );
        assert_eq!(sanitize("tab\there\r\n"), "tab\\there\\r\\n");
        assert_eq!(sanitize("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(sanitize("\u{9b}31m"), "\\x9b31m");
        assert_eq!(sanitize("héllo ✓"), "héllo ✓");
        let segs = segments("ab\u{1b}cd", 3);
        assert_eq!(
            segs,
            vec![
                (Cow::Borrowed("ab"), false),
                (Cow::Owned("\\e".into()), true)
            ]
        );
    }

    #[test]
    fn multiline_keeps_newlines() {
        assert_eq!(sanitize_multiline("a\n\tb\u{1b}"), "a\n    b\\e");
    }

    #[test]
    fn previews_never_split_characters() {
        assert_eq!(preview_text("aé".as_bytes(), 2), "a");
        assert_eq!(preview_hex(&[0xc0, 0xff, 0xee, 1], 2), "c0 ff …");
    }

    #[test]
    fn hexdump_layout() {
        let d = hexdump(b"Hello, wsmon!\x00\x01\x02\x03");
        assert_eq!(
            d,
            "00000000  48 65 6c 6c 6f 2c 20 77  73 6d 6f 6e 21 00 01 02  |Hello, wsmon!...|\n\
             00000010  03                                                |.|\n"
        );
    }

    #[test]
    fn json_is_pretty_printed_only_when_it_parses() {
        assert_eq!(pretty_json(br#"{"a":1}"#).unwrap(), "{\n  \"a\": 1\n}");
        assert_eq!(
            pretty_json(br#" {"big":12345678901234567890123, "p":0.10,"e":[ ],"s":"a,\"b\":[{"} "#)
                .unwrap(),
            "{\n  \"big\": 12345678901234567890123,\n  \"p\": 0.10,\n  \"e\": [],\n  \"s\": \"a,\\\"b\\\":[{\"\n}",
            "numbers as sent; brackets in strings are text"
        );
        let nested = pretty_json(br#"[{"a":[1,{"b":null}]},true]"#).unwrap();
        let value: serde_json::Value = serde_json::from_str(&nested).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&value).unwrap(),
            nested,
            "the same layout as serde_json's"
        );
        assert!(pretty_json(b"{broken").is_none());
        assert!(pretty_json(b"42").is_none());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(1_204), "1,204");
        assert_eq!(count(100_000), "100,000");
        assert_eq!(count(7), "7");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(64 << 20), "64MiB");
        assert_eq!(size(64 << 20), "64MiB");
        assert_eq!(size(1000), "1000B");
        assert_eq!(duration(Duration::from_micros(420)), "0.42ms");
        assert_eq!(duration(Duration::from_millis(4200)), "4.2s");
        assert_eq!(duration(Duration::from_secs(253)), "4m13s");
        assert_eq!(duration(Duration::from_secs(7500)), "2h05m");
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(duration(Duration::from_millis(5)), "5ms");
        assert_eq!(duration(Duration::from_millis(500)), "500ms");
        assert_eq!(duration(Duration::from_micros(12_345)), "12ms");
        assert_eq!(duration(Duration::from_secs(15)), "15s");
        assert_eq!(duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(duration(Duration::from_secs(120)), "2m");
        assert_eq!(duration(Duration::from_secs(3600)), "1h");
        assert_eq!(duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(duration(Duration::from_secs(86_400 + 4 * 3600)), "1d04h");
        assert_eq!(millis(Duration::from_micros(3140)), "3.1");
        assert_eq!(
            clock_millis(UNIX_EPOCH + Duration::from_millis(3_723_004)),
            "01:02:03.004"
        );
    }

    #[test]
    fn hex_for_binary_sends() {
        assert_eq!(parse_hex("c0 ff ee"), Ok(vec![0xc0, 0xff, 0xee]));
        assert_eq!(parse_hex("0xC0FFEE"), Ok(vec![0xc0, 0xff, 0xee]));
        assert!(parse_hex("abc").unwrap_err().contains("odd"));
        assert!(parse_hex("zz").unwrap_err().contains("`zz`"));
        assert!(parse_hex("").is_err());
        // Characters that are not ASCII: an error, not a panic.
        assert!(parse_hex("aéb").unwrap_err().contains("odd"));
        assert!(parse_hex("aébé").unwrap_err().contains("`aé`"));
        assert!(parse_hex("\u{1b}[").unwrap_err().contains("\\e["));
    }
}
