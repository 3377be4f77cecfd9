//! TLS client setup (rustls with the ring provider) and naming of certificate failures.

mod cert;
mod presented;
mod verdict;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};

pub use cert::CertInfo;
use cert::{CertFacts, name_text};
use presented::Presenting;
use thiserror::Error;
pub(crate) use verdict::handshake_problem;

use crate::problem::{ChainMiss, NotInCaFile};

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
        // The machine's own trust store too, as curl trusts it: a corporate CA installed there
        // (update-ca-certificates), or named by SSL_CERT_FILE / SSL_CERT_DIR. What cannot be
        // read or parsed is left out (logged): the built-in roots and --ca still stand.
        let native = rustls_native_certs::load_native_certs();
        for e in &native.errors {
            tracing::warn!(error = %e, "a certificate of the system trust store was not read");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "system trust store");
        let presenting = |v: Arc<dyn ServerCertVerifier>| Arc::new(Presenting(v));
        match ca {
            None => {
                let inner =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .expect("the built-in roots make a verifier");
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(presenting(inner))
                    .with_no_client_auth()
            }
            Some(path) => {
                let trusted = load_pem_certs(path)?;
                for (i, cert) in trusted.iter().enumerate() {
                    roots
                        .add(cert.clone())
                        .map_err(|e| TlsConfigError::BadCertificate {
                            path: path.to_path_buf(),
                            index: i + 1,
                            reason: e.to_string(),
                        })?;
                }
                let inner =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| TlsConfigError::BadCertificate {
                            path: path.to_path_buf(),
                            index: 1,
                            reason: e.to_string(),
                        })?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(presenting(Arc::new(TrustedFile {
                        path: path.to_path_buf(),
                        trusted,
                        inner,
                    })))
                    .with_no_client_auth()
            }
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Web PKI verification with the roots plus a CA file the user passed with `--ca`, which
/// also accepts a certificate from that file presented as the server's own (a self-signed
/// `openssl req -x509` certificate is marked CA:TRUE; openssl, curl and Python accept it when
/// trusted explicitly), and explains a chain the file does not sign.
#[derive(Debug)]
struct TrustedFile {
    path: PathBuf,
    trusted: Vec<CertificateDer<'static>>,
    inner: Arc<WebPkiServerVerifier>,
}

impl TrustedFile {
    /// A certificate from the file, presented as the server's own: its name and dates must
    /// still be right.
    fn pinned(
        &self,
        end_entity: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let invalid = |e: CertificateError| rustls::Error::InvalidCertificate(e);
        let facts = CertFacts::parse(end_entity).ok_or(invalid(CertificateError::BadEncoding))?;
        let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now_secs > facts.not_after {
            return Err(invalid(CertificateError::ExpiredContext {
                time: now,
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                    facts.not_after.max(0) as u64,
                )),
            }));
        }
        if now_secs < facts.not_before {
            return Err(invalid(CertificateError::NotValidYet));
        }
        let ee = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| invalid(CertificateError::BadEncoding))?;
        ee.verify_is_valid_for_subject_name(server_name)
            .map_err(|e| match e {
                webpki::Error::CertNotValidForName(ctx) => {
                    invalid(CertificateError::NotValidForNameContext {
                        expected: ctx.expected,
                        presented: ctx.presented,
                    })
                }
                _ => invalid(CertificateError::NotValidForName),
            })?;
        Ok(ServerCertVerified::assertion())
    }

    /// Why the chain the server sent does not lead to a certificate in the file.
    fn untrusted(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> rustls::Error {
        let held: Vec<CertFacts> = self
            .trusted
            .iter()
            .filter_map(|c| CertFacts::parse(c))
            .collect();
        let Some(ee) = CertFacts::parse(end_entity) else {
            return rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
        };
        let top = intermediates
            .last()
            .and_then(|c| CertFacts::parse(c))
            .unwrap_or(ee);
        let issuer = name_text(top.issuer);
        let same_name = held.iter().any(|c| c.subject == top.issuer);
        let miss = if intermediates.is_empty() && ee.self_issued() {
            ChainMiss::SelfSigned {
                subject: name_text(ee.subject),
                same_name,
            }
        } else if same_name {
            ChainMiss::WrongKey { issuer }
        } else if intermediates.is_empty() {
            ChainMiss::OnlyLeaf { issuer }
        } else {
            ChainMiss::EndsAt {
                subject: name_text(top.subject),
                issuer,
            }
        };
        let why = NotInCaFile {
            file: self.path.clone(),
            holds: held.iter().map(|c| name_text(c.subject)).collect(),
            miss,
        };
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Untrusted(
            why,
        )))))
    }
}

/// A chain the `--ca` file does not sign, carried through rustls to the verdict.
#[derive(Debug)]
struct Untrusted(NotInCaFile);

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // rustls's own messages print this; wsmon reads the facts.
        write!(
            f,
            "not signed by a certificate in {}",
            self.0.file.display()
        )
    }
}

impl std::error::Error for Untrusted {}

/// The webpki error inside a rustls certificate error, if that is what it holds.
fn webpki_error(e: &CertificateError) -> Option<&webpki::Error> {
    match e {
        CertificateError::Other(OtherError(inner)) => inner.downcast_ref::<webpki::Error>(),
        _ => None,
    }
}

impl ServerCertVerifier for TrustedFile {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let err = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let rustls::Error::InvalidCertificate(cert_err) = &err else {
            return Err(err);
        };
        let in_file = self
            .trusted
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref());
        let ca_as_server = matches!(
            webpki_error(cert_err),
            Some(webpki::Error::CaUsedAsEndEntity)
        );
        match cert_err {
            _ if ca_as_server && in_file => self.pinned(end_entity, server_name, now),
            _ if ca_as_server => Err(self.untrusted(end_entity, intermediates)),
            CertificateError::UnknownIssuer => Err(self.untrusted(end_entity, intermediates)),
            _ => Err(err),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
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
