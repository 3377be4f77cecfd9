//! TLS client setup (rustls with the ring provider) and naming of certificate failures.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use thiserror::Error;

/// A TLS setup that cannot be built, naming the file and the fix.
#[derive(Debug, Error)]
pub enum TlsConfigError {
    /// The CA file could not be read.
    #[error(
        "cannot read CA file `{path}`: {source}; check the path given to --ca (or `ca` in the config)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The CA file holds no PEM certificate.
    #[error(
        "CA file `{path}` holds no PEM certificate: it must contain -----BEGIN CERTIFICATE----- blocks"
    )]
    NoCertificates {
        /// The file.
        path: PathBuf,
    },
    /// A PEM block could not be decoded.
    #[error(
        "CA file `{path}` is not valid PEM ({reason}): it must contain -----BEGIN CERTIFICATE----- blocks"
    )]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// A certificate was rejected as a trust anchor.
    #[error("certificate {index} in CA file `{path}` cannot be used as a root: {reason}")]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// 1-based index in the file.
        index: usize,
        /// What rustls said.
        reason: String,
    },
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate in a PEM file.
pub fn load_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let bytes = std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| match e {
            rustls::pki_types::pem::Error::NoItemsFound => TlsConfigError::NoCertificates {
                path: path.to_path_buf(),
            },
            other => TlsConfigError::BadPem {
                path: path.to_path_buf(),
                reason: other.to_string(),
            },
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificates {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The client TLS config: Web PKI roots plus `ca`, or no verification at all when `insecure`.
/// Built once per (CA file, insecure) and shared: a fleet of endpoints needs one, not one each.
pub fn client_config(
    ca: Option<&Path>,
    insecure: bool,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Cache = Mutex<HashMap<(Option<PathBuf>, bool), Arc<ClientConfig>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (ca.map(Path::to_path_buf), insecure);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(c.clone());
    }
    let built = build_client_config(ca, insecure)?;
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, built.clone());
    Ok(built)
}

fn build_client_config(
    ca: Option<&Path>,
    insecure: bool,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default protocol versions");
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca {
            for (i, cert) in load_pem_certs(path)?.into_iter().enumerate() {
                roots
                    .add(cert)
                    .map_err(|e| TlsConfigError::BadCertificate {
                        path: path.to_path_buf(),
                        index: i + 1,
                        reason: e.to_string(),
                    })?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts any certificate; chosen only by `--insecure`, which the frontends warn about.
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A readable name for a TLS version.
pub fn version_name(v: rustls::ProtocolVersion) -> &'static str {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2",
        _ => "TLS (old)",
    }
}

/// Explains a failed TLS handshake in words a person can act on.
pub fn describe_handshake_error(err: &io::Error, host: &str) -> String {
    let rustls_err = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_err {
        Some(rustls::Error::InvalidCertificate(cert)) => describe_certificate_error(cert, host),
        Some(rustls::Error::InvalidMessage(_)) | Some(rustls::Error::PeerMisbehaved(_)) => {
            "the server did not speak TLS (is this a plain ws:// port?)".to_string()
        }
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("the server refused the TLS handshake (alert: {alert:?})")
        }
        Some(rustls::Error::PeerIncompatible(why)) => {
            format!("no TLS version or cipher in common with the server ({why:?})")
        }
        Some(other) => format!("TLS handshake failed: {other}"),
        None if err.kind() == io::ErrorKind::UnexpectedEof => {
            "the server closed the connection during the TLS handshake (is this a plain ws:// port?)"
                .to_string()
        }
        None => format!("TLS handshake failed: {err}"),
    }
}

fn describe_certificate_error(err: &CertificateError, host: &str) -> String {
    match err {
        CertificateError::UnknownIssuer => {
            "certificate has an unknown issuer (self-signed or a private CA): \
             pass the CA with --ca FILE, or --insecure to skip verification"
                .to_string()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let when = match err {
                CertificateError::ExpiredContext { not_after, .. } => {
                    format!(" on {}", unix_date(not_after.as_secs()))
                }
                _ => String::new(),
            };
            format!("certificate expired{when}")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not valid yet (check this machine's clock)".to_string()
        }
        CertificateError::NotValidForName => {
            format!("certificate name mismatch: it is not valid for `{host}`")
        }
        CertificateError::NotValidForNameContext { presented, .. } => format!(
            "certificate name mismatch: it is not valid for `{host}` (it names {})",
            presented.join(", ")
        ),
        CertificateError::Revoked => "certificate has been revoked".to_string(),
        CertificateError::BadSignature => "certificate has a bad signature".to_string(),
        CertificateError::BadEncoding => "certificate is not correctly encoded".to_string(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "certificate is not meant for TLS servers".to_string()
        }
        other => format!("certificate rejected: {other:?}"),
    }
}

fn unix_date(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t).to_string()[..10].to_string()
}
