//! A failed TLS handshake in words a person can act on: a short verdict first (what wscat or
//! curl would say, with the host), the fix apart from it, and the certificates presented.

use std::io;

use rustls::{CertificateError, OtherError};

use super::Untrusted;
use super::cert::CertInfo;
use super::presented;

/// What to do about a self-signed certificate (also one marked CA:TRUE, as `openssl req
/// -x509` makes: trusted explicitly, it is accepted as the server's own).
const SELF_SIGNED_FIX: &str = "trust it with --ca FILE (its PEM) or skip checks with --insecure";

/// A failed TLS handshake, told.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsVerdict {
    /// The verdict in one short line: `untrusted self-signed certificate for localhost`.
    pub message: String,
    /// What to do about it, when wsmon knows.
    pub advice: Option<String>,
    /// The certificates the server presented, its own first (for a refused certificate).
    pub chain: Vec<CertInfo>,
}

impl TlsVerdict {
    fn plain(message: impl Into<String>) -> TlsVerdict {
        TlsVerdict {
            message: message.into(),
            advice: None,
            chain: Vec::new(),
        }
    }

    fn advised(message: impl Into<String>, advice: impl Into<String>) -> TlsVerdict {
        TlsVerdict {
            message: message.into(),
            advice: Some(advice.into()),
            chain: Vec::new(),
        }
    }
}

/// Tells a failed TLS handshake to `host`, at `now` (Unix seconds).
pub fn handshake_verdict(err: &io::Error, host: &str, now: i64) -> TlsVerdict {
    let rustls_err = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(cert)) => {
            let (why, chain) = presented::unwrap(cert);
            let mut v = certificate_verdict(why, chain, host, now);
            v.chain = chain.to_vec();
            v
        }
        Some(rustls::Error::InvalidMessage(_)) | Some(rustls::Error::PeerMisbehaved(_)) => {
            TlsVerdict::advised(
                "the server did not speak TLS",
                "is this a plain ws:// port? try ws:// instead of wss://",
            )
        }
        Some(rustls::Error::AlertReceived(alert)) => TlsVerdict::plain(format!(
            "the server refused the TLS handshake (alert: {})",
            variant_name(alert)
        )),
        Some(rustls::Error::PeerIncompatible(why)) => TlsVerdict::plain(format!(
            "no TLS version or cipher in common with the server ({})",
            variant_name(why)
        )),
        Some(other) => TlsVerdict::plain(format!("TLS handshake failed: {other}")),
        None if err.kind() == io::ErrorKind::UnexpectedEof => TlsVerdict::advised(
            "the server closed the connection during the TLS handshake",
            "is this a plain ws:// port? try ws:// instead of wss://",
        ),
        None => TlsVerdict::plain(format!("TLS handshake failed: {err}")),
    }
}

/// `3 days ago`, `5 hours ago`, `in 2 days`: how far `then` is from `now` (Unix seconds).
fn days_word(then: i64, now: i64) -> String {
    let d = now - then;
    let (n, unit) = match d.abs() {
        s if s >= 2 * 86_400 => (s / 86_400, "days"),
        s if s >= 86_400 => (1, "day"),
        s if s >= 7_200 => (s / 3_600, "hours"),
        s if s >= 120 => (s / 60, "minutes"),
        s => (s, "seconds"),
    };
    if d >= 0 {
        format!("{n} {unit} ago")
    } else {
        format!("in {n} {unit}")
    }
}

fn certificate_verdict(
    err: &CertificateError,
    chain: &[CertInfo],
    host: &str,
    now: i64,
) -> TlsVerdict {
    let leaf = chain.first();
    let self_signed = chain.len() == 1 && leaf.is_some_and(CertInfo::self_issued);
    let untrusted_self_signed = || {
        TlsVerdict::advised(
            format!("untrusted self-signed certificate for {host}"),
            SELF_SIGNED_FIX,
        )
    };
    match err {
        CertificateError::UnknownIssuer if self_signed || leaf.is_none() => untrusted_self_signed(),
        CertificateError::UnknownIssuer => {
            let top = chain.last().map_or("", |c| c.issuer.as_str());
            TlsVerdict::advised(
                format!("certificate for {host} from an unknown CA ({top})"),
                "trust that CA with --ca FILE or in this machine's store (SSL_CERT_FILE too), or have the server send its intermediate certificates",
            )
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let until = match (err, leaf) {
                (CertificateError::ExpiredContext { not_after, .. }, _) => {
                    Some(not_after.as_secs() as i64)
                }
                (_, Some(c)) => Some(c.not_after),
                _ => None,
            };
            match until {
                Some(t) => TlsVerdict::advised(
                    format!("certificate expired {}", days_word(t, now)),
                    format!(
                        "the server must renew it (valid until {}); if that date is right, check this machine's clock",
                        unix_date(t)
                    ),
                ),
                None => TlsVerdict::advised(
                    "certificate expired",
                    "the server must renew it; check this machine's clock too",
                ),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let from = leaf.map(|c| c.not_before);
            TlsVerdict::advised(
                match from {
                    Some(t) => format!("certificate not valid yet (valid {})", days_word(t, now)),
                    None => "certificate not valid yet".to_string(),
                },
                "check this machine's clock",
            )
        }
        CertificateError::NotValidForName => TlsVerdict::advised(
            format!("certificate is not for {host}"),
            format!("connect with a name it holds, or reissue it with subjectAltName=DNS:{host}"),
        ),
        CertificateError::NotValidForNameContext { presented, .. } if presented.is_empty() => {
            TlsVerdict::advised(
                format!("certificate names no host (no subjectAltName), not {host}"),
                format!(
                    "reissue it with subjectAltName=DNS:{host}: TLS clients no longer read the subject CN"
                ),
            )
        }
        CertificateError::NotValidForNameContext { presented, .. } => TlsVerdict::advised(
            format!(
                "certificate is for {}, not {host}",
                presented
                    .iter()
                    .map(|n| plain_name(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("connect with a name it holds, or reissue it with subjectAltName=DNS:{host}"),
        ),
        CertificateError::Revoked => TlsVerdict::plain("certificate has been revoked"),
        CertificateError::BadSignature => TlsVerdict::plain("certificate has a bad signature"),
        CertificateError::BadEncoding => TlsVerdict::plain("certificate is not correctly encoded"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            TlsVerdict::plain("certificate is not meant for TLS servers")
        }
        CertificateError::Other(OtherError(inner)) => {
            if let Some(u) = inner.downcast_ref::<Untrusted>() {
                return TlsVerdict::advised(
                    format!("certificate for {host} not trusted by the --ca file"),
                    u.to_string(),
                );
            }
            match inner.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => TlsVerdict::advised(
                    format!("untrusted self-signed certificate for {host}"),
                    SELF_SIGNED_FIX,
                ),
                Some(webpki::Error::EndEntityUsedAsCa) => TlsVerdict::advised(
                    "the chain uses a server certificate as a CA",
                    "the server sends the wrong intermediate certificates",
                ),
                Some(webpki::Error::RequiredEkuNotFoundContext(_)) => {
                    TlsVerdict::plain("certificate is not meant for TLS servers (no serverAuth)")
                }
                Some(other) => {
                    TlsVerdict::plain(format!("certificate rejected: {}", variant_name(other)))
                }
                None => TlsVerdict::plain(format!("certificate rejected: {inner}")),
            }
        }
        other => TlsVerdict::plain(format!("certificate rejected: {}", variant_name(other))),
    }
}

/// A name from rustls's list of presented names, without its Rust wrapping:
/// `DnsName("a.example")` is `a.example`, `IpAddress(10.0.0.1)` is `10.0.0.1`.
fn plain_name(n: &str) -> &str {
    match n.split_once('(') {
        Some((_, inner)) => inner.strip_suffix(')').unwrap_or(inner).trim_matches('"'),
        None => n,
    }
}

/// The name of an error's variant, without its fields: what is left to say about an error
/// wsmon has no words for, and never a Rust structure.
fn variant_name(e: &dyn std::fmt::Debug) -> String {
    let text = format!("{e:?}");
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    // Split CamelCase into words: "MaximumPathDepthExceeded" -> "maximum path depth exceeded".
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `2026-12-01`.
pub fn unix_date(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_said_in_the_unit_that_reads() {
        let now = 1_800_000_000;
        assert_eq!(days_word(now - 3 * 86_400 - 5, now), "3 days ago");
        assert_eq!(days_word(now - 86_400, now), "1 day ago");
        assert_eq!(days_word(now - 5 * 3_600, now), "5 hours ago");
        assert_eq!(days_word(now + 10 * 86_400, now), "in 10 days");
    }
}
