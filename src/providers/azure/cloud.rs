//! The clouds vaultwire can target: their endpoints, token scopes and HTTP transport.
//!
//! Owns the per-cloud constants (ARM endpoint, Entra authority, token scopes, Key Vault DNS
//! suffix, the SecretProviderClass `cloudName`) and the places a private CA is trusted: the
//! sandbox's, for the sandbox only, and the extra bundle a corporate TLS proxy needs
//! (`providers::ca_bundle`). Real clouds use azure_core's default transport and the platform's
//! roots — plus that bundle when one is named; the sandbox transport trusts *only* the sandbox
//! CA, so a sandbox plan can never reach a real endpoint.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::http::{ClientOptions, HttpClient, Transport, Url};

use crate::plan::model::Cloud;
use crate::providers::Environment;
use crate::providers::ca_bundle::{self, CaBundleError, ExtraRoots};

/// The Entra application of the AKS API server (AAD-enabled clusters): tokens for this scope
/// authenticate to the Kubernetes API. Documented for the public cloud; that China and US
/// Government use the same application ID is UNVERIFIED (kubelogin's default is the same).
pub const AKS_SERVER_APP_SCOPE: &str = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";

/// Set by `vaultwire sandbox serve` (in `DIR/env`): the sandbox's `https://127.0.0.1:PORT`.
pub const SANDBOX_ENDPOINT_VAR: &str = "VAULTWIRE_SANDBOX_ENDPOINT";
/// Set by `vaultwire sandbox serve`: the path of the sandbox's CA certificate (PEM).
pub const SANDBOX_CA_VAR: &str = "VAULTWIRE_SANDBOX_CA";

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("the plan targets the sandbox but `{variable}` is not set")]
    SandboxNotConfigured { variable: &'static str },
    #[error("cannot read the sandbox CA `{}`", path.display())]
    ReadCa {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the sandbox CA is not a PEM certificate")]
    InvalidCa,
    #[error("the sandbox endpoint `{endpoint}` is not an https URL")]
    InvalidEndpoint { endpoint: String },
    #[error("cannot build the HTTP client for the sandbox")]
    HttpClient(#[source] reqwest::Error),
    #[error(transparent)]
    CaBundle(#[from] CaBundleError),
    #[error("cannot trust the CA bundle `{}`", path.display())]
    UntrustedBundle {
        path: PathBuf,
        #[source]
        source: reqwest::Error,
    },
}

impl CloudError {
    pub fn help(&self) -> Option<String> {
        match self {
            CloudError::SandboxNotConfigured { .. } => Some(
                "start it with `vaultwire sandbox serve` and load its `env` file into this shell"
                    .to_owned(),
            ),
            CloudError::CaBundle(error) => error.help(),
            _ => None,
        }
    }
}

/// Everything vaultwire needs to know about one cloud.
#[derive(Debug, Clone)]
pub struct AzureCloud {
    kind: Cloud,
    arm_endpoint: Url,
    authority_host: Url,
    arm_scope: String,
    key_vault_scope: String,
    key_vault_dns_suffix: Option<String>,
    spc_cloud_name: &'static str,
    /// Only the sandbox, an extra CA bundle (and tests) replace azure_core's default transport.
    http_client: Option<Arc<dyn HttpClient>>,
    /// The extra CA bundle the environment names, trusted by Azure and Kubernetes connections.
    extra_roots: Option<Arc<ExtraRoots>>,
}

/// Parses one of the URL constants below; a typo there fails every test of this module.
fn url(constant: &'static str) -> Url {
    Url::parse(constant).expect("cloud endpoint constants are valid URLs")
}

impl AzureCloud {
    /// Azure public cloud (`AzureCloud` in plan files and `az cloud list`).
    pub fn public() -> Self {
        Self {
            kind: Cloud::AzureCloud,
            arm_endpoint: url("https://management.azure.com/"),
            authority_host: url("https://login.microsoftonline.com/"),
            // The ARM token audience is the classic resource ID; its scope keeps the double
            // slash, as az and the Go SDK request it.
            arm_scope: "https://management.core.windows.net//.default".to_owned(),
            key_vault_scope: "https://vault.azure.net/.default".to_owned(),
            key_vault_dns_suffix: Some("vault.azure.net".to_owned()),
            spc_cloud_name: "AzurePublicCloud",
            http_client: None,
            extra_roots: None,
        }
    }

    /// Azure operated by 21Vianet in China.
    pub fn china() -> Self {
        Self {
            kind: Cloud::AzureChinaCloud,
            arm_endpoint: url("https://management.chinacloudapi.cn/"),
            authority_host: url("https://login.chinacloudapi.cn/"),
            arm_scope: "https://management.core.chinacloudapi.cn//.default".to_owned(),
            // UNVERIFIED directly; follows the DNS suffix, and the data plane's 401 challenge
            // names the scope anyway.
            key_vault_scope: "https://vault.azure.cn/.default".to_owned(),
            key_vault_dns_suffix: Some("vault.azure.cn".to_owned()),
            spc_cloud_name: "AzureChinaCloud",
            http_client: None,
            extra_roots: None,
        }
    }

    /// Azure Government (US).
    pub fn us_government() -> Self {
        Self {
            kind: Cloud::AzureUsGovernment,
            arm_endpoint: url("https://management.usgovcloudapi.net/"),
            authority_host: url("https://login.microsoftonline.us/"),
            arm_scope: "https://management.core.usgovcloudapi.net//.default".to_owned(),
            // UNVERIFIED directly, as for China.
            key_vault_scope: "https://vault.usgovcloudapi.net/.default".to_owned(),
            key_vault_dns_suffix: Some("vault.usgovcloudapi.net".to_owned()),
            spc_cloud_name: "AzureUSGovernmentCloud",
            http_client: None,
            extra_roots: None,
        }
    }

    /// The sandbox at `endpoint` (`https://127.0.0.1:PORT`), whose certificates chain to
    /// `ca_pem`. Entra ID and ARM are both served from the endpoint's root; Key Vault data-plane
    /// URLs come from each vault's `properties.vaultUri`. Token scopes are the public cloud's,
    /// which the sandbox emulates.
    pub fn sandbox(endpoint: &str, ca_pem: &[u8]) -> Result<Self, CloudError> {
        let invalid = || CloudError::InvalidEndpoint {
            endpoint: endpoint.to_owned(),
        };
        let root = Url::parse(endpoint).map_err(|_| invalid())?;
        if root.scheme() != "https" || root.host_str().is_none() {
            return Err(invalid());
        }
        let certificates =
            reqwest::Certificate::from_pem_bundle(ca_pem).map_err(|_| CloudError::InvalidCa)?;
        if certificates.is_empty() {
            return Err(CloudError::InvalidCa);
        }
        let client = reqwest::Client::builder()
            // Only the sandbox CA: neither the platform's roots nor any other CA.
            .tls_certs_only(certificates)
            // The sandbox speaks HTTP/2 (ALPN `h2`). Known up front, requests made at once
            // share the one connection being opened; found out by ALPN, each of them opens
            // a connection (a TLS handshake on both ends) only to close all but one — as the
            // sign-in's two token requests did.
            .http2_prior_knowledge()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(CloudError::HttpClient)?;
        let public = Self::public();
        Ok(Self {
            kind: Cloud::Sandbox,
            arm_endpoint: root.clone(),
            authority_host: root,
            key_vault_dns_suffix: None,
            http_client: Some(Arc::new(client)),
            ..public
        })
    }

    /// The cloud a plan's `[target] cloud` names, trusting the extra CA bundle `env` names
    /// (`providers::ca_bundle`). The sandbox is found through `VAULTWIRE_SANDBOX_ENDPOINT` and
    /// `VAULTWIRE_SANDBOX_CA` (reading the CA file); its own transport trusts only its CA.
    pub fn for_plan(cloud: Cloud, env: &Environment) -> Result<Self, CloudError> {
        let extra_roots = ca_bundle::from_environment(env)?.map(Arc::new);
        let cloud = Self::without_extra_roots(cloud, env)?;
        match extra_roots {
            Some(roots) => cloud.trusting(roots),
            None => Ok(cloud),
        }
    }

    fn without_extra_roots(cloud: Cloud, env: &Environment) -> Result<Self, CloudError> {
        match cloud {
            Cloud::AzureCloud => Ok(Self::public()),
            Cloud::AzureChinaCloud => Ok(Self::china()),
            Cloud::AzureUsGovernment => Ok(Self::us_government()),
            Cloud::Sandbox => {
                let endpoint =
                    env.get(SANDBOX_ENDPOINT_VAR)
                        .ok_or(CloudError::SandboxNotConfigured {
                            variable: SANDBOX_ENDPOINT_VAR,
                        })?;
                let ca_path = PathBuf::from(env.get(SANDBOX_CA_VAR).ok_or(
                    CloudError::SandboxNotConfigured {
                        variable: SANDBOX_CA_VAR,
                    },
                )?);
                let ca_pem = std::fs::read(&ca_path).map_err(|source| CloudError::ReadCa {
                    path: ca_path.clone(),
                    source,
                })?;
                Self::sandbox(endpoint, &ca_pem)
            }
        }
    }

    /// This cloud with `roots` trusted beside the platform's, as azure_core's own transport is
    /// built otherwise. The sandbox's transport is left as it is (its CA only); its clusters'
    /// connections still get the roots.
    fn trusting(mut self, roots: Arc<ExtraRoots>) -> Result<Self, CloudError> {
        if self.kind != Cloud::Sandbox {
            let untrusted = |source| CloudError::UntrustedBundle {
                path: roots.path.clone(),
                source,
            };
            let certificates =
                reqwest::Certificate::from_pem_bundle(&roots.pem).map_err(untrusted)?;
            let client = reqwest::Client::builder()
                .tls_certs_merge(certificates)
                // azure_core's defaults for its own reqwest client (typespec_client_core 1.1).
                .connect_timeout(Duration::from_secs(20))
                .read_timeout(Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(untrusted)?;
            self.http_client = Some(Arc::new(client));
        }
        self.extra_roots = Some(roots);
        Ok(self)
    }

    /// The extra CA bundle every connection trusts, when the environment names one.
    pub fn extra_roots(&self) -> Option<&ExtraRoots> {
        self.extra_roots.as_deref()
    }

    /// Replaces the HTTP transport (the sandbox's TLS client, or a scripted one in tests).
    pub fn with_http_client(mut self, client: Arc<dyn HttpClient>) -> Self {
        self.http_client = Some(client);
        self
    }

    pub fn kind(&self) -> Cloud {
        self.kind
    }

    /// The transport that replaces azure_core's default (the sandbox's TLS client), so a caller
    /// can wrap it — tests record and interpose on requests this way.
    pub fn http_client(&self) -> Option<Arc<dyn HttpClient>> {
        self.http_client.clone()
    }

    pub fn arm_endpoint(&self) -> &Url {
        &self.arm_endpoint
    }

    pub fn authority_host(&self) -> &Url {
        &self.authority_host
    }

    /// The scope of tokens for ARM.
    pub fn arm_scope(&self) -> &str {
        &self.arm_scope
    }

    /// The scope of tokens for the Key Vault data plane, before any challenge says otherwise.
    pub fn key_vault_scope(&self) -> &str {
        &self.key_vault_scope
    }

    /// `vault.azure.net` and the like; `None` for the sandbox, which reports vault URIs itself.
    pub fn key_vault_dns_suffix(&self) -> Option<&str> {
        self.key_vault_dns_suffix.as_deref()
    }

    /// The scope of tokens for the Kubernetes API of AAD-enabled AKS clusters.
    pub fn aks_server_scope(&self) -> &'static str {
        AKS_SERVER_APP_SCOPE
    }

    /// The SecretProviderClass `cloudName` parameter the Azure provider expects.
    pub fn spc_cloud_name(&self) -> &'static str {
        self.spc_cloud_name
    }

    pub fn is_sandbox(&self) -> bool {
        self.kind == Cloud::Sandbox
    }

    /// azure_core client options for this cloud: the Entra authority (for azure_identity) and
    /// the transport. Callers add their own retry and policies.
    pub fn client_options(&self) -> ClientOptions {
        let cloud = match self.kind {
            Cloud::AzureCloud => CloudConfiguration::AzurePublic,
            Cloud::AzureChinaCloud => CloudConfiguration::AzureChina,
            Cloud::AzureUsGovernment => CloudConfiguration::AzureGovernment,
            Cloud::Sandbox => {
                let mut custom = CustomConfiguration::default();
                custom.authority_host = self.authority_host.as_str().to_owned();
                custom.into()
            }
        };
        ClientOptions {
            cloud: Some(Arc::new(cloud)),
            transport: self.http_client.clone().map(Transport::new),
            ..ClientOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_has_its_own_endpoints_and_spc_cloud_name() {
        let cases = [
            (
                AzureCloud::public(),
                "https://management.azure.com/",
                "https://login.microsoftonline.com/",
                "AzurePublicCloud",
            ),
            (
                AzureCloud::china(),
                "https://management.chinacloudapi.cn/",
                "https://login.chinacloudapi.cn/",
                "AzureChinaCloud",
            ),
            (
                AzureCloud::us_government(),
                "https://management.usgovcloudapi.net/",
                "https://login.microsoftonline.us/",
                "AzureUSGovernmentCloud",
            ),
        ];
        for (cloud, arm, authority, spc) in cases {
            assert_eq!(cloud.arm_endpoint().as_str(), arm);
            assert_eq!(cloud.authority_host().as_str(), authority);
            assert_eq!(cloud.spc_cloud_name(), spc);
            assert!(cloud.arm_scope().ends_with("//.default"));
            assert!(cloud.key_vault_scope().starts_with("https://vault."));
            assert!(!cloud.is_sandbox());
        }
        assert_eq!(
            AzureCloud::public().aks_server_scope(),
            "6dae42f8-4368-4678-94ff-3960e28e3630/.default"
        );
    }

    #[test]
    fn sandbox_requires_its_endpoint_variable() {
        let error = AzureCloud::for_plan(Cloud::Sandbox, &Environment::default()).unwrap_err();
        assert!(
            matches!(error, CloudError::SandboxNotConfigured { variable } if variable == SANDBOX_ENDPOINT_VAR)
        );
        assert!(error.help().is_some());
    }

    #[test]
    fn sandbox_rejects_a_ca_that_is_not_pem() {
        let error =
            AzureCloud::sandbox("https://127.0.0.1:8443", b"not a certificate").unwrap_err();
        assert!(matches!(error, CloudError::InvalidCa), "{error:?}");
    }

    #[test]
    fn sandbox_trusts_its_ca_and_signs_in_at_its_own_endpoint() {
        let ca = include_bytes!("../../../tests/fixtures/test-ca.pem");
        let cloud = AzureCloud::sandbox("https://127.0.0.1:8443", ca).unwrap();
        assert!(cloud.is_sandbox());
        assert_eq!(cloud.arm_endpoint().as_str(), "https://127.0.0.1:8443/");
        assert_eq!(cloud.key_vault_dns_suffix(), None);
        let options = cloud.client_options();
        assert!(
            options.transport.is_some(),
            "the sandbox brings its own TLS client"
        );
        let Some(CloudConfiguration::Custom(custom)) = options.cloud.as_deref() else {
            panic!("the sandbox is a custom cloud");
        };
        assert_eq!(custom.authority_host, "https://127.0.0.1:8443/");
    }

    #[test]
    fn sandbox_rejects_plain_http() {
        let error = AzureCloud::sandbox("http://127.0.0.1:8443", b"").unwrap_err();
        assert!(matches!(error, CloudError::InvalidEndpoint { .. }));
    }

    #[test]
    fn public_cloud_uses_the_default_transport() {
        let options = AzureCloud::public().client_options();
        assert!(options.transport.is_none());
        assert_eq!(
            options.cloud.as_deref(),
            Some(&CloudConfiguration::AzurePublic)
        );
    }
}
