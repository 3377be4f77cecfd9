//! Human values in config and flags: durations (`500ms`, `15s`, `2m`), sizes (`64MiB`),
//! counts, headers and proxies; and for each kind of key, how its value is read from the file,
//! checked against its range, and shown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use toml::de::DeValue;

use super::keys::{Value, ValueKind};
use crate::engine::Proxy;
use crate::engine::redact::Redactor;
use crate::engine::target::Target;
use crate::text;

/// Parses a duration like `500ms`, `15s`, `2m`, `1h30m` or `1.5s`; `0` means zero (off).
/// Whatever `text::duration` writes reads back.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(t)
        .ok()
        .or_else(|| parse_fraction(t))
        .ok_or_else(|| {
            format!("invalid duration `{text}`: write a number and a unit, like 500ms, 15s or 2m")
        })
}

/// A decimal number and one unit: `1.5s`, `0.42ms`.
fn parse_fraction(t: &str) -> Option<Duration> {
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let unit_secs = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(n * unit_secs).ok()
}

/// Parses a size like `64MiB`, `512KiB`, `1MB` or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        format!(
            "invalid size `{text}`: write bytes or a number with a unit, like 4096, 512KiB or 64MiB"
        )
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1000,
        "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" => 1 << 30,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// Parses a whole number for a flag.
pub(crate) fn parse_count(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number: write digits, like 10"))
}

/// What a TOML value is, for "expected ..., got ..." messages.
fn toml_type(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "a number",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "true/false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

fn toml_int(v: &DeValue<'_>) -> Option<i128> {
    match v {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

fn toml_str<'a>(v: &'a DeValue<'_>) -> Option<&'a str> {
    match v {
        DeValue::String(s) => Some(s),
        _ => None,
    }
}

impl ValueKind {
    /// Reads a value of this kind from the config file; the message says what is allowed.
    pub(crate) fn read_toml(&self, v: &DeValue<'_>) -> Result<Value, String> {
        let expected = |what: &str| format!("expected {what}, got {}", toml_type(v));
        match self {
            ValueKind::Duration { .. } => match (toml_str(v), toml_int(v)) {
                (Some(text), _) => parse_duration(text).map(Value::Duration),
                (_, Some(0)) => Ok(Value::Duration(Duration::ZERO)),
                (_, Some(n)) if n < 0 => Err(format!("a duration cannot be negative, got {n}")),
                (_, Some(n)) => Err(format!(
                    "a duration needs a unit: write \"{n}s\" or \"{n}ms\""
                )),
                _ => Err(expected("a duration like \"500ms\", \"15s\" or \"2m\"")),
            },
            ValueKind::Size { .. } => match (toml_str(v), toml_int(v)) {
                (Some(text), _) => parse_size(text).map(Value::Num),
                (_, Some(n)) if n < 0 => Err(format!("a size cannot be negative, got {n}")),
                (_, Some(n)) => u64::try_from(n)
                    .map(Value::Num)
                    .map_err(|_| format!("{n} bytes is too large")),
                _ => Err(expected("a size like \"64MiB\" or a number of bytes")),
            },
            ValueKind::Count { .. } => match toml_int(v) {
                Some(n) if n >= 0 => u64::try_from(n)
                    .map(Value::Num)
                    .map_err(|_| format!("{n} is too large")),
                Some(n) => Err(format!("expected a whole number, got {n}")),
                None => Err(expected("a whole number")),
            },
            ValueKind::Bool => match v {
                DeValue::Boolean(b) => Ok(Value::Bool(*b)),
                _ => Err(expected("true or false")),
            },
            ValueKind::Text
            | ValueKind::Url
            | ValueKind::Proxy
            | ValueKind::Addr
            | ValueKind::Shard
            | ValueKind::Regex
            | ValueKind::Choice(_)
            | ValueKind::Json
            | ValueKind::Secret => toml_str(v)
                .map(|s| Value::Text(Some(s.to_string())))
                .ok_or_else(|| expected("text in quotes")),
            ValueKind::Path | ValueKind::CaFile => toml_str(v)
                .map(|s| Value::Path(Some(PathBuf::from(s))))
                .ok_or_else(|| expected("a file name in quotes")),
            ValueKind::Tokens | ValueKind::List => match v {
                DeValue::Array(items) => items
                    .iter()
                    .map(|i| toml_str(i.get_ref()).map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .map(Value::List)
                    .ok_or_else(|| "expected a list of text, like [\"a\", \"b\"]".to_string()),
                _ => Err(expected("a list like [\"a\", \"b\"]")),
            },
            ValueKind::Rules => match v {
                DeValue::Array(items) => items
                    .iter()
                    .map(|i| {
                        let DeValue::Table(t) = i.get_ref() else {
                            return None;
                        };
                        let field = |k: &str| {
                            t.iter()
                                .find(|(name, _)| name.get_ref().as_ref() == k)
                                .and_then(|(_, v)| toml_str(v.get_ref()))
                                .map(str::to_string)
                        };
                        Some((field("when")?, field("send")?))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(Value::Pairs)
                    .ok_or_else(|| {
                        "each rule must be a table like { when = \"^ping$\", send = \"pong\" }"
                            .to_string()
                    }),
                _ => Err(expected(
                    "a list of rules like [{ when = \"^ping$\", send = \"pong\" }]",
                )),
            },
            ValueKind::Headers => match v {
                DeValue::Table(t) => t
                    .iter()
                    .map(|(k, v)| {
                        toml_str(v.get_ref())
                            .map(|text| (k.get_ref().to_string(), text.to_string()))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(Value::Pairs)
                    .ok_or_else(|| "each header's value must be text in quotes".to_string()),
                _ => Err(expected("a table like { Name = \"value\" }")),
            },
        }
    }

    /// Checks a value against the kind's range and syntax, and returns it in its final form
    /// (a parsed URL, proxy or address); the message says what is allowed.
    pub fn check(&self, v: Value) -> Result<Value, String> {
        match (self, v) {
            (ValueKind::Duration { min, max, off }, Value::Duration(d)) => {
                if (off.is_some() && d.is_zero()) || (*min..=*max).contains(&d) {
                    return Ok(Value::Duration(d));
                }
                let range = format!(
                    "between {} and {}",
                    text::duration(*min),
                    text::duration(*max)
                );
                Err(format!(
                    "must be {}, got {}",
                    or_off(*off, range),
                    text::duration(d)
                ))
            }
            (ValueKind::Size { min, max, off }, Value::Num(n)) => {
                if (off.is_some() && n == 0) || (*min..=*max).contains(&n) {
                    return Ok(Value::Num(n));
                }
                let range = if *max == u64::MAX {
                    format!("at least {}", text::size(*min))
                } else {
                    format!("between {} and {}", text::size(*min), text::size(*max))
                };
                Err(format!(
                    "must be {}, got {}",
                    or_off(*off, range),
                    text::size(n)
                ))
            }
            (ValueKind::Count { min, max }, Value::Num(n)) => {
                if (*min..=*max).contains(&n) {
                    Ok(Value::Num(n))
                } else {
                    Err(format!("must be between {min} and {max}, got {n}"))
                }
            }
            (ValueKind::Text | ValueKind::Secret, Value::Text(Some(t))) => {
                if t.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    Err("must be one line (it contains a line break)".into())
                } else {
                    Ok(Value::Text(Some(t)))
                }
            }
            (ValueKind::CaFile, Value::Path(Some(p))) => {
                // Read it now so a bad file is a config error, not a failure at the first dial.
                crate::engine::tls::load_pem_certs(&p).map_err(|e| e.to_string())?;
                Ok(Value::Path(Some(p)))
            }
            (ValueKind::Tokens, Value::List(words)) => {
                if let Some(bad) = words
                    .iter()
                    .find(|w| w.is_empty() || !w.bytes().all(is_token_byte))
                {
                    return Err(format!(
                        "`{bad}` is not a valid subprotocol name (letters, digits and !#$%&'*+-.^_`|~ only)"
                    ));
                }
                Ok(Value::List(words))
            }
            (ValueKind::Regex, Value::Text(Some(t))) => regex::Regex::new(&t)
                .map(|_| Value::Text(Some(t)))
                .map_err(|e| format!("not a regular expression: {}", one_line(&e.to_string()))),
            (ValueKind::Rules, Value::Pairs(rules)) => {
                for (when, _) in &rules {
                    regex::Regex::new(when).map_err(|e| {
                        format!(
                            "`{when}` is not a regular expression: {}",
                            one_line(&e.to_string())
                        )
                    })?;
                }
                Ok(Value::Pairs(rules))
            }
            (ValueKind::Choice(words), Value::Text(Some(t))) => {
                if words.contains(&t.as_str()) {
                    Ok(Value::Text(Some(t)))
                } else {
                    Err(format!("must be one of {}, got `{t}`", words.join(", ")))
                }
            }
            (ValueKind::Json, Value::Text(Some(t))) => serde_json::from_str::<serde_json::Value>(&t)
                .map(|_| Value::Text(Some(t)))
                .map_err(|e| format!("not JSON ({e}): write it like '{{\"token\":\"...\"}}'")),
            (ValueKind::Headers, Value::Pairs(pairs)) => pairs
                .iter()
                .map(|(n, v)| validate_header(n, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Pairs),
            (ValueKind::Url, Value::Text(Some(t))) => Target::parse(&t)
                .map(|t| Value::Url(Some(t)))
                .map_err(|e| e.to_string()),
            (ValueKind::Proxy, Value::Text(Some(t))) => parse_proxy(&t).map(Value::Proxy),
            (ValueKind::Shard, Value::Text(Some(t))) => {
                crate::targets::Shard::parse(&t).map(|_| Value::Text(Some(t)))
            }
            (ValueKind::Addr, Value::Text(Some(t))) => t
                .trim()
                .parse::<SocketAddr>()
                .map(|a| Value::Addr(Some(a)))
                .map_err(|_| {
                    format!(
                        "`{t}` is not an address to listen on: write ip:port, like 127.0.0.1:9464 or 0.0.0.0:9464"
                    )
                }),
            (_, v) => Ok(v),
        }
    }

    /// The value as `--print-config` shows it, secrets masked with `r`.
    pub fn show(&self, v: &Value, r: &Redactor) -> String {
        match v {
            Value::Bool(b) => b.to_string(),
            Value::Num(0) if matches!(self, ValueKind::Size { off: Some(_), .. }) => "0".into(),
            Value::Num(n) if matches!(self, ValueKind::Size { .. }) => {
                format!("{:?}", text::size(*n))
            }
            Value::Num(n) => n.to_string(),
            Value::Duration(d) => format!("{:?}", text::duration(*d)),
            Value::Text(Some(_)) if *self == ValueKind::Secret => "\"***\"".into(),
            Value::Text(Some(t)) => format!("{t:?}"),
            Value::Path(Some(p)) => format!("{:?}", p.display().to_string()),
            // Subprotocols that carry a credential are masked like a header.
            Value::List(l) if *self == ValueKind::Tokens => format!(
                "{:?}",
                l.iter().map(|p| r.subprotocol(p)).collect::<Vec<_>>()
            ),
            Value::List(l) => format!("{l:?}"),
            Value::Pairs(p) if p.is_empty() && *self == ValueKind::Rules => "[]".into(),
            Value::Pairs(p) if *self == ValueKind::Rules => format!(
                "[{}]",
                p.iter()
                    .map(|(when, send)| format!("{{ when = {when:?}, send = {send:?} }}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Pairs(p) if p.is_empty() => "{}".into(),
            Value::Pairs(p) => format!(
                "{{ {} }}",
                p.iter()
                    .map(|(n, v)| format!("{n:?} = {:?}", r.header_value(n, v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Url(Some(t)) => format!("{:?}", t.redacted(r)),
            Value::Proxy(Some(p)) => format!("{:?}", p.shown),
            Value::Addr(Some(a)) => format!("{:?}", a.to_string()),
            Value::Addr(None) => "(off)".into(),
            Value::Text(None) | Value::Path(None) | Value::Url(None) | Value::Proxy(None) => {
                "(none)".into()
            }
        }
    }

    /// The default as `--help` names it, when there is one worth naming.
    pub(crate) fn help_default(&self, v: &Value) -> Option<String> {
        match v {
            Value::Text(Some(t)) if matches!(self, ValueKind::Choice(_)) => Some(t.clone()),
            Value::Duration(d) if d.is_zero() => match self {
                ValueKind::Duration { off: Some(w), .. } => Some((*w).to_string()),
                _ => Some(text::duration(*d)),
            },
            Value::Duration(d) => Some(text::duration(*d)),
            Value::Num(0) if matches!(self, ValueKind::Size { .. }) => Some("0".into()),
            Value::Num(n) if matches!(self, ValueKind::Size { .. }) => Some(text::size(*n)),
            Value::Num(n) => Some(n.to_string()),
            Value::List(l) if !l.is_empty() => Some(l.join(", ")),
            _ => None,
        }
    }
}

/// The first line of a multi-line message (the regex crate draws a caret diagram below).
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.chars().all(|c| c == '^' || c == ' '))
        .unwrap_or(text)
        .to_string()
}

/// Parses `--auto-reply 'REGEX => TEXT'`.
pub(crate) fn parse_rule_arg(arg: &str) -> Result<(String, String), String> {
    let Some((when, send)) = arg.split_once("=>") else {
        return Err(format!(
            "rule `{arg}` must look like 'REGEX => TEXT', e.g. '^2$ => 3'"
        ));
    };
    Ok((when.trim().to_string(), send.trim().to_string()))
}

/// A range, or 0 with its meaning.
fn or_off(off: Option<&str>, range: String) -> String {
    match off {
        Some(word) => format!("0 ({word}) or {range}"),
        None => range,
    }
}

/// Checks a header name and value; returns them trimmed.
pub(crate) fn validate_header(name: &str, value: &str) -> Result<(String, String), String> {
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(format!(
            "`{name}` is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"
        ));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(format!(
            "the value of header `{name}` contains a line break"
        ));
    }
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "upgrade" | "connection" | "sec-websocket-key" | "sec-websocket-version" | "sec-websocket-extensions" => {
            Err(format!("`{name}` is set by wsmon for the WebSocket handshake; remove it"))
        }
        "sec-websocket-protocol" => Err("use --subprotocol NAME (or `subprotocols = [...]`) instead of a Sec-WebSocket-Protocol header".into()),
        _ => Ok((name.to_string(), value.trim().to_string())),
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses `-H 'Name: value'`.
pub(crate) fn parse_header_arg(arg: &str) -> Result<(String, String), String> {
    let Some((name, value)) = arg.split_once(':') else {
        return Err(format!("header `{arg}` must look like 'Name: value'"));
    };
    validate_header(name, value)
}

/// Parses a proxy URL; `none` (or nothing) means no proxy.
pub fn parse_proxy(text: &str) -> Result<Option<Proxy>, String> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let with_scheme = if t.contains("://") {
        t.to_string()
    } else {
        format!("http://{t}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| {
        format!("`{t}` is not a proxy URL ({e}): write it like http://proxy.corp:3128")
    })?;
    match url.scheme() {
        "http" => {}
        "https" => return Err("TLS to the proxy (https://) is not supported: use an http:// proxy URL; the tunnel still carries wss:// end to end".into()),
        other => return Err(format!("`{other}://` proxies are not supported: use an http:// CONNECT proxy")),
    }
    let host = url.host_str().ok_or_else(|| format!("`{t}` has no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port().unwrap_or(80);
    let auth = if url.username().is_empty() {
        None
    } else {
        use base64::Engine as _;
        let user = percent_encoding::percent_decode_str(url.username())
            .decode_utf8_lossy()
            .into_owned();
        let pass = percent_encoding::percent_decode_str(url.password().unwrap_or(""))
            .decode_utf8_lossy()
            .into_owned();
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    };
    Ok(Some(Proxy {
        host,
        port,
        auth,
        // Only the password is masked in a proxy URL.
        shown: Redactor::new(Vec::new()).url(&url),
        source: String::new(),
    }))
}

/// Whether `NO_PROXY` exempts `host`: `*`, a domain and its subdomains (`example.com`,
/// `.example.com`, `*.example.com`), an IP address, or an IP range in CIDR notation
/// (`127.0.0.0/8`, `fd00::/8`), as curl, Go and Python's requests read it.
pub(crate) fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host_ip = host.parse::<std::net::IpAddr>().ok();
    list.split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((net, bits)) = entry.split_once('/') {
                return host_ip.is_some_and(|ip| in_cidr(ip, net, bits));
            }
            if let Ok(ip) = entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
            {
                return host_ip == Some(ip);
            }
            let entry = entry
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches("*.")
                .trim_start_matches('.');
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

/// Whether `ip` lies in the range `net/bits`.
fn in_cidr(ip: std::net::IpAddr, net: &str, bits: &str) -> bool {
    use std::net::IpAddr;
    let Ok(bits) = bits.parse::<u32>() else {
        return false;
    };
    match (ip, net.parse::<IpAddr>()) {
        (IpAddr::V4(ip), Ok(IpAddr::V4(net))) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), Ok(IpAddr::V6(net))) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        let e = parse_duration("15x").unwrap_err();
        assert!(e.contains("`15x`") && e.contains("500ms, 15s or 2m"), "{e}");
        assert!(parse_duration("15").is_err());
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.25ms"), Ok(Duration::from_micros(250)));
        assert!(parse_duration("1.5x").is_err());
    }

    #[test]
    fn durations_as_written_read_back() {
        for ms in [
            1, 5, 10, 250, 500, 1000, 1500, 15_000, 90_000, 120_000, 3_600_000, 5_400_000,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&crate::text::duration(d)), Ok(d), "{d:?}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12 parsecs").unwrap_err().contains("64MiB"));
        assert!(parse_size("99999999999999GiB").is_err());
    }
}
