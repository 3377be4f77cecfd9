//! A message as a person writes it, in a config value (`on_open`, `app_ping`, an
//! `auto_reply` answer) or on stdin: in the preset's form by default, or exactly as written
//! (`/raw TEXT`), or binary (`/binary c0 ff ee`); `//x` is the text `/x` in the preset's form.

use bytes::Bytes;

use super::Payload;
use crate::event::Kind;

/// What a written value asks to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// Put in the preset's form on the connection it goes out on.
    Typed(String),
    /// Sent as it is.
    Raw(Payload),
}

impl Line {
    /// Reads a written value; the error says what is wrong with its hex.
    pub fn parse(value: &str) -> Result<Line, String> {
        if let Some(rest) = value.strip_prefix("//") {
            return Ok(Line::Typed(format!("/{rest}")));
        }
        if let Some(hex) = value.strip_prefix("/binary") {
            if !(hex.is_empty() || hex.starts_with(char::is_whitespace)) {
                return Ok(Line::Typed(value.to_string()));
            }
            let data = crate::fmt::parse_hex(hex)?;
            return Ok(Line::Raw(Payload::binary(data)));
        }
        if let Some(text) = value.strip_prefix("/raw")
            && (text.is_empty() || text.starts_with(char::is_whitespace))
        {
            let text = text.strip_prefix(char::is_whitespace).unwrap_or(text);
            return Ok(Line::Raw(Payload::text(text)));
        }
        Ok(Line::Typed(value.to_string()))
    }

    /// The value of `parse`, or the text as typed when it cannot be read (config values are
    /// checked when loaded, so this is for what was not).
    pub fn lenient(value: &str) -> Line {
        Line::parse(value).unwrap_or_else(|_| Line::Typed(value.to_string()))
    }

    /// What it sends without a preset: the typed text as it is.
    pub fn plain(self) -> Payload {
        match self {
            Line::Typed(t) => Payload::text(t),
            Line::Raw(p) => p,
        }
    }

    /// Whether it is binary.
    pub fn kind(&self) -> Kind {
        match self {
            Line::Typed(_) => Kind::Text,
            Line::Raw(p) => p.kind,
        }
    }

    /// Its bytes as written (the typed text, or the raw payload).
    pub fn bytes(&self) -> Bytes {
        match self {
            Line::Typed(t) => Bytes::copy_from_slice(t.as_bytes()),
            Line::Raw(p) => p.data.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_raw_and_binary_values() {
        assert_eq!(Line::parse("hello").unwrap(), Line::Typed("hello".into()));
        assert_eq!(Line::parse("//x y").unwrap(), Line::Typed("/x y".into()));
        assert_eq!(
            Line::parse("/raw 42[\"a\"]").unwrap(),
            Line::Raw(Payload::text("42[\"a\"]"))
        );
        assert_eq!(
            Line::parse("/binary c0 00").unwrap(),
            Line::Raw(Payload::binary(vec![0xc0, 0x00]))
        );
        assert_eq!(
            Line::parse("/binaryfoo").unwrap(),
            Line::Typed("/binaryfoo".into())
        );
        assert!(Line::parse("/binary c0 0").unwrap_err().contains("odd"));
        assert!(
            Line::parse("/binary zz")
                .unwrap_err()
                .contains("not a hex byte")
        );
    }
}
