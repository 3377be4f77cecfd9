//! The few ways of writing a value that the engine's own messages share with every frontend:
//! control characters escaped, durations, hex. The frontends' text module re-exports them, so
//! a duration reads the same in an engine message and on screen.

use std::borrow::Cow;
use std::time::Duration;

/// A run of display text, marked when it stands for an escaped character.
pub type Segment<'a> = (Cow<'a, str>, bool);

/// Whether a character must not reach the terminal raw: C0/C1 controls, DEL, and the bidi
/// overrides that can make text display differently from what it is.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn escape(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        '\u{1b}' => "\\e".into(),
        c if (c as u32) < 0x100 => format!("\\x{:02x}", c as u32),
        c => format!("\\u{{{:x}}}", c as u32),
    }
}

/// Splits text into safe runs and escapes, stopping after about `max_chars` characters.
pub fn segments(text: &str, max_chars: usize) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut shown = 0;
    for (i, c) in text.char_indices() {
        if shown >= max_chars {
            if start < i {
                out.push((Cow::Borrowed(&text[start..i]), false));
            }
            return out;
        }
        if is_unsafe(c) {
            if start < i {
                out.push((Cow::Borrowed(&text[start..i]), false));
            }
            let e = escape(c);
            shown += e.len();
            out.push((Cow::Owned(e), true));
            start = i + c.len_utf8();
        } else {
            shown += 1;
        }
    }
    if start < text.len() {
        out.push((Cow::Borrowed(&text[start..]), false));
    }
    out
}

/// Text with every unsafe character escaped (one line).
pub fn sanitize(text: &str) -> String {
    segments(text, usize::MAX)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// The start of a binary payload as hex: `c0 ff ee 01`.
pub fn preview_hex(data: &[u8], max_bytes: usize) -> String {
    let mut s: String = data
        .iter()
        .take(max_bytes)
        .map(|b| format!("{b:02x} "))
        .collect();
    s.pop();
    if data.len() > max_bytes {
        s.push_str(" …");
    }
    s
}

/// A duration, short: `420ms`, `0.42ms`, `1.2s`, `15s`, `4m13s`, `2m`, `2h05m`, `1h`, `3d04h`.
/// The one way wsmon writes a duration: on screen, in reports, in messages and in config
/// values; exact values (a whole number of milliseconds, seconds, minutes...) are written
/// exactly, so a config value reads back as it was given. Zero is `0s`.
pub fn duration(d: Duration) -> String {
    const MS: u128 = 1_000_000;
    const S: u64 = 1;
    let ns = d.as_nanos();
    let s = d.as_secs();
    if ns == 0 {
        "0s".to_string()
    } else if ns < 10_000 {
        // Below what two decimals of a millisecond show: not `0.00ms`.
        "<0.01ms".to_string()
    } else if ns < 1_000 * MS {
        let ms = d.as_secs_f64() * 1000.0;
        if ns.is_multiple_of(MS) {
            format!("{}ms", ns / MS)
        } else if ms < 10.0 {
            format!("{ms:.2}ms")
        } else {
            format!("{ms:.0}ms")
        }
    } else if s < 60 * S {
        if d.subsec_nanos() == 0 {
            format!("{s}s")
        } else {
            format!("{:.1}s", d.as_secs_f64())
        }
    } else {
        // Two units, the smaller one padded; a zero smaller unit is left out.
        let (big, small, units) = if s < 3600 {
            (s / 60, s % 60, ("m", "s"))
        } else if s < 86_400 {
            (s / 3600, s / 60 % 60, ("h", "m"))
        } else {
            (s / 86_400, s / 3600 % 24, ("d", "h"))
        };
        if small == 0 {
            format!("{big}{}", units.0)
        } else {
            format!("{big}{}{small:02}{}", units.0, units.1)
        }
    }
}

/// Parses hex like `c0ffee` or `c0 ff ee` for `/binary`.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if digits.is_empty() {
        return Err("give the bytes in hex, e.g. /binary c0ffee or /binary c0 ff ee".into());
    }
    // By characters, not bytes: `aéb` is three characters and no hex at all.
    let chars: Vec<char> = digits.chars().collect();
    if !chars.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of hex digits ({}): each byte needs two",
            chars.len()
        ));
    }
    chars
        .chunks(2)
        .map(|pair| {
            let byte: String = pair.iter().collect();
            match (pair[0].to_digit(16), pair[1].to_digit(16)) {
                (Some(hi), Some(lo)) => Ok((hi * 16 + lo) as u8),
                _ => Err(format!("`{}` is not a hex byte", sanitize(&byte))),
            }
        })
        .collect()
}

/// A count and its noun, the plural right: `1 attempt`, `3 attempts`, `1,204 messages`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A count with thousands separators: `1,204`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
