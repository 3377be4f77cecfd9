//! A failed TLS handshake sorted into what it means (`TlsProblem`), with the certificates the
//! server presented; wsmon's `describe` says it and the fix.

use std::io;

use rustls::{CertificateError, OtherError};

use super::Untrusted;
use super::cert::CertInfo;
use super::presented;
use crate::problem::TlsProblem;

/// What a failed TLS handshake ran into, at `now` (Unix seconds), with the certificates the
/// server presented (its own first) when it was the certificate that was refused.
pub(crate) fn handshake_problem(err: &io::Error, now: i64) -> (TlsProblem, Vec<CertInfo>) {
    let rustls_err = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let problem = match rustls_err {
        Some(rustls::Error::InvalidCertificate(cert)) => {
            let (why, chain) = presented::unwrap(cert);
            return (certificate_problem(why, chain, now), chain.to_vec());
        }
        Some(rustls::Error::InvalidMessage(_)) | Some(rustls::Error::PeerMisbehaved(_)) => {
            TlsProblem::NotTls
        }
        Some(rustls::Error::AlertReceived(alert)) => TlsProblem::Alert(variant_name(alert)),
        Some(rustls::Error::PeerIncompatible(why)) => TlsProblem::Incompatible(variant_name(why)),
        Some(other) => TlsProblem::Handshake(other.to_string()),
        None if err.kind() == io::ErrorKind::UnexpectedEof => TlsProblem::ClosedInHandshake,
        None => TlsProblem::Handshake(err.to_string()),
    };
    (problem, Vec::new())
}

fn certificate_problem(err: &CertificateError, chain: &[CertInfo], now: i64) -> TlsProblem {
    let leaf = chain.first();
    let self_signed = chain.len() == 1 && leaf.is_some_and(CertInfo::self_issued);
    match err {
        CertificateError::UnknownIssuer if self_signed || leaf.is_none() => TlsProblem::SelfSigned,
        CertificateError::UnknownIssuer => {
            TlsProblem::UnknownCa(chain.last().map_or("", |c| c.issuer.as_str()).to_string())
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let until = match (err, leaf) {
                (CertificateError::ExpiredContext { not_after, .. }, _) => {
                    Some(not_after.as_secs() as i64)
                }
                (_, Some(c)) => Some(c.not_after),
                _ => None,
            };
            TlsProblem::Expired { until, now }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            TlsProblem::NotValidYet {
                from: leaf.map(|c| c.not_before),
                now,
            }
        }
        CertificateError::NotValidForName => TlsProblem::WrongName(None),
        CertificateError::NotValidForNameContext { presented, .. } => TlsProblem::WrongName(Some(
            presented
                .iter()
                .map(|n| plain_name(n).to_string())
                .collect(),
        )),
        CertificateError::Revoked => TlsProblem::Revoked,
        CertificateError::BadSignature => TlsProblem::BadSignature,
        CertificateError::BadEncoding => TlsProblem::BadEncoding,
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            TlsProblem::NotForServers
        }
        CertificateError::Other(OtherError(inner)) => {
            if let Some(u) = inner.downcast_ref::<Untrusted>() {
                return TlsProblem::NotInCaFile(Box::new(u.0.clone()));
            }
            match inner.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => TlsProblem::SelfSigned,
                Some(webpki::Error::EndEntityUsedAsCa) => TlsProblem::ServerCertAsCa,
                Some(webpki::Error::RequiredEkuNotFoundContext(_)) => TlsProblem::NoServerAuth,
                Some(other) => TlsProblem::Rejected(variant_name(other)),
                None => TlsProblem::Rejected(inner.to_string()),
            }
        }
        other => TlsProblem::Rejected(variant_name(other)),
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
