//! The sandbox's certificates: a CA kept in the sandbox directory (so clients trust it once),
//! a leaf for `127.0.0.1`/`localhost` issued by it on every start, and a leaf per Azure host
//! the proxy answers for (`proxy.rs`), issued when a client first asks for that host.
//!
//! Owns generation and the rustls server configuration; where files live is `files.rs`'s
//! business and this module only receives and returns PEM text.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the sandbox certificates")]
    Generate(#[source] rcgen::Error),
    #[error("cannot read the sandbox CA key")]
    CaKey(#[source] rcgen::Error),
    #[error("cannot build the TLS configuration")]
    Config(#[source] rustls::Error),
    #[error("cannot parse a generated certificate")]
    Pem,
}

/// The CA, as PEM text: the certificate clients trust and its private key.
#[derive(Debug, Clone)]
pub struct CaPem {
    pub cert: String,
    pub key: String,
}

/// A new CA.
pub fn generate_ca() -> Result<CaPem, TlsError> {
    let key = KeyPair::generate().map_err(TlsError::Generate)?;
    let cert = ca_params().self_signed(&key).map_err(TlsError::Generate)?;
    Ok(CaPem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// The CA's parameters. They are rebuilt rather than parsed back from `ca.pem`: issuing only
/// needs the subject name and key, which are the same every time.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "vaultwire sandbox CA");
    name.push(DnType::OrganizationName, "vaultwire sandbox");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    params
}

/// A leaf certificate and key for 127.0.0.1 and localhost, issued by `ca`, valid from
/// yesterday for 397 days (what browsers and Apple's TLS stack accept for a server certificate).
pub fn issue_leaf(ca: &CaPem, today: jiff::civil::Date) -> Result<(String, String), TlsError> {
    issue_leaf_for(
        ca,
        vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
        today,
    )
}

/// A leaf certificate and key for `names` (DNS names or IP addresses), as [`issue_leaf`].
pub fn issue_leaf_for(
    ca: &CaPem,
    names: Vec<String>,
    today: jiff::civil::Date,
) -> Result<(String, String), TlsError> {
    let ca_key = KeyPair::from_pem(&ca.key).map_err(TlsError::CaKey)?;
    let issuer = Issuer::new(ca_params(), ca_key);
    let key = KeyPair::generate().map_err(TlsError::Generate)?;
    let mut params = CertificateParams::new(names).map_err(TlsError::Generate)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "vaultwire sandbox");
    params.distinguished_name = name;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let (year, month, day) = ymd(today.yesterday().unwrap_or(today));
    params.not_before = rcgen::date_time_ymd(year, month, day);
    let (year, month, day) = ymd(today.saturating_add(jiff::Span::new().days(397)));
    params.not_after = rcgen::date_time_ymd(year, month, day);
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(TlsError::Generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A civil date as rcgen wants it (always valid: it comes from a valid `jiff` date).
fn ymd(date: jiff::civil::Date) -> (i32, u8, u8) {
    (
        i32::from(date.year()),
        u8::try_from(date.month()).unwrap_or(1),
        u8::try_from(date.day()).unwrap_or(1),
    )
}

/// The rustls server configuration for a leaf, offering HTTP/2 and HTTP/1.1 as ARM, Entra and
/// API servers do (kubectl and Go clients pick HTTP/2; Python's azure-identity HTTP/1.1).
pub fn server_config(
    leaf_cert: &str,
    leaf_key: &str,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(leaf_cert.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem)?;
    let key = PrivateKeyDer::from_pem_slice(leaf_key.as_bytes()).map_err(|_| TlsError::Pem)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Config)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_issued_by_the_ca_makes_a_server_configuration() {
        let ca = generate_ca().unwrap();
        let (cert, key) = issue_leaf(&ca, jiff::civil::date(2026, 11, 26)).unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(server_config(&cert, &key).is_ok());
    }
}
