//! Extra certificate authorities to trust, for users behind TLS-inspecting corporate proxies:
//! the bundle the ecosystem's variables name, added to what each connection already trusts.
//!
//! `VAULTWIRE_CA_BUNDLE` wins, then `REQUESTS_CA_BUNDLE` (what azure-cli and Python's requests
//! read), then `SSL_CERT_FILE` (OpenSSL, curl, Go). Those tools treat their bundle as the
//! whole trust store; vaultwire adds it to the platform's roots (Azure) and to a kubeconfig's
//! own CA (Kubernetes), so a bundle holding only the proxy's CA is enough.

use std::path::PathBuf;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

use crate::providers::Environment;

/// The variables read, in order of precedence.
pub const CA_BUNDLE_VARS: [&str; 3] =
    ["VAULTWIRE_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"];

/// A PEM bundle of extra roots, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRoots {
    /// The variable that named it.
    pub variable: &'static str,
    pub path: PathBuf,
    /// The file as read (PEM), for clients that take PEM.
    pub pem: Vec<u8>,
    /// Each certificate, DER-encoded, for clients that take DER.
    pub der: Vec<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CaBundleError {
    #[error("cannot read the CA bundle `{}` that `{variable}` names", path.display())]
    Read {
        variable: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA bundle `{}` that `{variable}` names holds no PEM certificate", path.display())]
    NoCertificate {
        variable: &'static str,
        path: PathBuf,
    },
}

impl CaBundleError {
    pub fn help(&self) -> Option<String> {
        let variable = match self {
            CaBundleError::Read { variable, .. }
            | CaBundleError::NoCertificate { variable, .. } => variable,
        };
        Some(format!(
            "point `{variable}` at a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----`), or unset it"
        ))
    }
}

/// The extra roots `env` names, if any. A variable that is set but empty counts as unset.
pub fn from_environment(env: &Environment) -> Result<Option<ExtraRoots>, CaBundleError> {
    let Some((variable, path)) = CA_BUNDLE_VARS.iter().find_map(|variable| {
        env.get(variable)
            .filter(|value| !value.is_empty())
            .map(|value| (*variable, PathBuf::from(value)))
    }) else {
        return Ok(None);
    };
    let pem = crate::files::read_text(&path, BUNDLE_LIMIT)
        .map_err(|source| CaBundleError::Read {
            variable,
            path: path.clone(),
            source,
        })?
        .into_bytes();
    let der: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .map(|certificate| certificate.as_ref().to_vec())
        .collect();
    if der.is_empty() {
        return Err(CaBundleError::NoCertificate { variable, path });
    }
    Ok(Some(ExtraRoots {
        variable,
        path,
        pem,
        der,
    }))
}

/// A CA bundle larger than this is not one (Mozilla's whole store is about 220 KB).
const BUNDLE_LIMIT: u64 = 16 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../../tests/fixtures/test-ca.pem");

    fn env_with(pairs: &[(&str, &str)]) -> Environment {
        pairs
            .iter()
            .fold(Environment::default(), |env, (name, value)| {
                env.with(*name, *value)
            })
    }

    #[test]
    fn the_first_variable_set_names_the_bundle() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("ours.pem");
        let python = dir.path().join("python.pem");
        std::fs::write(&ours, CA).unwrap();
        std::fs::write(&python, format!("{CA}{CA}")).unwrap();
        let roots = from_environment(&env_with(&[
            ("SSL_CERT_FILE", "/nonexistent.pem"),
            ("REQUESTS_CA_BUNDLE", python.to_str().unwrap()),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(roots.variable, "REQUESTS_CA_BUNDLE");
        assert_eq!(roots.der.len(), 2);
        let roots = from_environment(&env_with(&[
            ("REQUESTS_CA_BUNDLE", python.to_str().unwrap()),
            ("VAULTWIRE_CA_BUNDLE", ours.to_str().unwrap()),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(roots.variable, "VAULTWIRE_CA_BUNDLE");
        assert_eq!(roots.der.len(), 1);
        assert!(
            from_environment(&env_with(&[("SSL_CERT_FILE", "")]))
                .unwrap()
                .is_none()
        );
        assert!(from_environment(&Environment::default()).unwrap().is_none());
    }

    #[test]
    fn a_bundle_that_cannot_be_used_names_its_variable_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a certificate").unwrap();
        let error =
            from_environment(&env_with(&[("SSL_CERT_FILE", text.to_str().unwrap())])).unwrap_err();
        assert!(matches!(
            error,
            CaBundleError::NoCertificate {
                variable: "SSL_CERT_FILE",
                ..
            }
        ));
        assert!(error.to_string().contains("notes.txt"), "{error}");
        let error = from_environment(&env_with(&[("VAULTWIRE_CA_BUNDLE", "/nonexistent.pem")]))
            .unwrap_err();
        assert!(matches!(
            error,
            CaBundleError::Read {
                variable: "VAULTWIRE_CA_BUNDLE",
                ..
            }
        ));
        assert!(error.help().unwrap().contains("VAULTWIRE_CA_BUNDLE"));
    }
}
