//! HTTPS with required client certificates, as identity serves services.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// The server's certificate and key, and the CA client certificates must chain to (all PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_pem: String,
    pub key_pem: String,
    pub client_ca_pem: String,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

pub fn acceptor(files: &TlsFiles) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(files.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| invalid("server certificate", e))?;
    let key = PrivateKeyDer::from_pem_slice(files.key_pem.as_bytes()).map_err(|e| invalid("server key", e))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(files.client_ca_pem.as_bytes()) {
        roots.add(ca.map_err(|e| invalid("client CA", e))?).map_err(|e| invalid("client CA", e))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| invalid("client verifier", e))?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("protocol versions", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| invalid("server certificate", e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
