//! What the server presented, kept with a refused certificate: any verifier is wrapped so that
//! its refusal carries the chain, and the dial can show the certificates it refused.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use super::cert::CertInfo;

/// A verifier whose refusals carry the chain the server presented.
#[derive(Debug)]
pub(super) struct Presenting(pub Arc<dyn ServerCertVerifier>);

/// A refused certificate with the chain it came in.
#[derive(Debug)]
pub(super) struct Presented {
    /// Why it was refused.
    pub error: CertificateError,
    /// The server's certificate first, then the intermediates it sent.
    pub chain: Vec<CertInfo>,
}

impl std::fmt::Display for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}",
            rustls::Error::InvalidCertificate(self.error.clone())
        )
    }
}

impl std::error::Error for Presented {}

/// The refusal inside a certificate error, and the chain when one was kept.
pub(super) fn unwrap(e: &CertificateError) -> (&CertificateError, &[CertInfo]) {
    if let CertificateError::Other(OtherError(inner)) = e
        && let Some(p) = inner.downcast_ref::<Presented>()
    {
        return (&p.error, &p.chain);
    }
    (e, &[])
}

impl ServerCertVerifier for Presenting {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(error)) => {
                let chain = std::iter::once(end_entity)
                    .chain(intermediates)
                    .filter_map(|c| CertInfo::of(c))
                    .collect();
                Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    OtherError(Arc::new(Presented { error, chain })),
                )))
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
