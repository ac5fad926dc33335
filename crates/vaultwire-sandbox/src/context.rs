//! What every handler may read besides the world: the clock, the sandbox's own address and
//! how the client reached it, the signing key and the timing settings.

use std::time::Duration;

use crate::token::TokenKeys;
use crate::{hosts, kubeconfig};

/// How the client reached the sandbox, which decides the URLs its answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// On `https://127.0.0.1:PORT`: every service under a path of the one endpoint.
    Endpoint,
    /// Through the proxy, on Azure's own hostnames: answers name those hosts, as Azure's do.
    AzureHosts,
}

#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub now: jiff::Timestamp,
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub endpoint: &'a str,
    pub addressing: Addressing,
    pub keys: &'a TokenKeys,
    /// The CA certificate (PEM), for the kubeconfigs the sandbox hands out.
    pub ca_pem: &'a str,
    pub lro_duration: Duration,
    pub rbac_delay: Duration,
    pub principal_delay: Duration,
    pub credential_delay: Duration,
    /// The injected latency: a request came `latency / 2` before `now` and is answered
    /// `latency / 2` after it.
    pub latency: Duration,
}

impl<'a> Ctx<'a> {
    /// `now` plus `duration`, saturating.
    pub fn after(&self, duration: Duration) -> jiff::Timestamp {
        later(self.now, duration)
    }

    /// This context for a client that reached the sandbox as `addressing` says.
    pub fn addressed(self, addressing: Addressing) -> Ctx<'a> {
        Ctx { addressing, ..self }
    }

    /// The Entra authority, no trailing slash: `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn authority(&self) -> String {
        match self.addressing {
            Addressing::Endpoint => self.endpoint.to_owned(),
            Addressing::AzureHosts => format!("https://{}", hosts::AUTHORITY_HOST),
        }
    }

    /// ARM's root, no trailing slash.
    pub fn arm(&self) -> String {
        match self.addressing {
            Addressing::Endpoint => self.endpoint.to_owned(),
            Addressing::AzureHosts => format!("https://{}", hosts::ARM_HOST),
        }
    }

    /// A vault's data-plane URI, with its trailing slash as ARM's `vaultUri` has it.
    pub fn vault_uri(&self, name: &str) -> String {
        match self.addressing {
            Addressing::Endpoint => format!("{}/vaults/{name}/", self.endpoint),
            Addressing::AzureHosts => format!(
                "https://{}.{}/",
                name.to_ascii_lowercase(),
                hosts::VAULT_DNS_SUFFIX
            ),
        }
    }

    /// A cluster's API server URL: under the endpoint by name, or its FQDN as AKS's
    /// kubeconfigs have it (`https://FQDN:443`).
    pub fn api_server(&self, cluster: &str, fqdn: Option<&str>) -> String {
        match (self.addressing, fqdn) {
            (Addressing::AzureHosts, Some(fqdn)) => format!("https://{fqdn}:443"),
            _ => kubeconfig::server_url(self.endpoint, cluster),
        }
    }
}

/// `time` plus `duration`, saturating at the end of time.
pub fn later(time: jiff::Timestamp, duration: Duration) -> jiff::Timestamp {
    jiff::SignedDuration::try_from(duration)
        .ok()
        .and_then(|duration| time.checked_add(duration).ok())
        .unwrap_or(jiff::Timestamp::MAX)
}
