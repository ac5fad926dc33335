//! The Azure public cloud's hostnames the sandbox answers for through its proxy (`proxy.rs`),
//! and which emulated service each one is. Any other name is refused: nothing is forwarded.

use std::fmt;

/// The Entra authority clients sign in at.
pub const AUTHORITY_HOST: &str = "login.microsoftonline.com";
/// The names MSAL's instance discovery lists for the public cloud's authority; clients may use
/// any of them (`preferred_cache` is `login.windows.net`).
pub const AUTHORITY_ALIASES: [&str; 4] = [
    AUTHORITY_HOST,
    "login.windows.net",
    "login.microsoft.com",
    "sts.windows.net",
];
pub const ARM_HOST: &str = "management.azure.com";
pub const GRAPH_HOST: &str = "graph.microsoft.com";
/// `NAME.vault.azure.net`: the Key Vault data plane by vault name.
pub const VAULT_DNS_SUFFIX: &str = "vault.azure.net";
/// `<dns-prefix>-<hash>.hcp.<location>.azmk8s.io`: a cluster's API server.
pub const API_SERVER_DNS_SUFFIX: &str = "azmk8s.io";
/// `<location>.oic.prod-aks.azure.com`: the clusters' OIDC issuers.
pub const OIDC_ISSUER_DNS_SUFFIX: &str = "oic.prod-aks.azure.com";

/// One of the hosts the sandbox answers for, as the proxy's `CONNECT` named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureHost {
    Entra,
    Arm,
    Graph,
    /// The data plane of the vault `name` (lower-case, as DNS is).
    Vault {
        name: String,
    },
    /// A cluster's API server, by its FQDN (the cluster is looked up when a request comes).
    ApiServer {
        fqdn: String,
    },
    /// The OIDC issuers of the clusters in one location.
    OidcIssuer {
        host: String,
    },
}

impl AzureHost {
    /// The service `host` names (any case, no port), or `None` for a host the sandbox does
    /// not emulate.
    pub fn of(host: &str) -> Option<AzureHost> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if AUTHORITY_ALIASES.contains(&host.as_str()) {
            return Some(AzureHost::Entra);
        }
        match host.as_str() {
            ARM_HOST => return Some(AzureHost::Arm),
            GRAPH_HOST => return Some(AzureHost::Graph),
            _ => {}
        }
        let (first, rest) = host.split_once('.')?;
        if rest == VAULT_DNS_SUFFIX && valid_vault_name(first) {
            return Some(AzureHost::Vault {
                name: first.to_owned(),
            });
        }
        if rest == OIDC_ISSUER_DNS_SUFFIX && valid_label(first) {
            return Some(AzureHost::OidcIssuer { host });
        }
        // `<name>.hcp.<location>.azmk8s.io` or `<name>.portal.hcp.<location>.azmk8s.io`.
        let labels: Vec<&str> = host.split('.').collect();
        let api_server = match labels.as_slice() {
            [name, "hcp", location, "azmk8s", "io"]
            | [name, "portal", "hcp", location, "azmk8s", "io"] => {
                valid_label(name) && valid_label(location)
            }
            _ => false,
        };
        api_server.then_some(AzureHost::ApiServer { fqdn: host })
    }
}

impl fmt::Display for AzureHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AzureHost::Entra => f.write_str(AUTHORITY_HOST),
            AzureHost::Arm => f.write_str(ARM_HOST),
            AzureHost::Graph => f.write_str(GRAPH_HOST),
            AzureHost::Vault { name } => write!(f, "{name}.{VAULT_DNS_SUFFIX}"),
            AzureHost::ApiServer { fqdn } => f.write_str(fqdn),
            AzureHost::OidcIssuer { host } => f.write_str(host),
        }
    }
}

/// A vault name as Key Vault allows it: 3–24 letters, digits and dashes, starting with a
/// letter and not ending with a dash.
fn valid_vault_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('-')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// One DNS label.
fn valid_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_emulated_host_names_its_service() {
        assert_eq!(
            AzureHost::of("login.microsoftonline.com"),
            Some(AzureHost::Entra)
        );
        assert_eq!(AzureHost::of("LOGIN.windows.net."), Some(AzureHost::Entra));
        assert_eq!(AzureHost::of("management.azure.com"), Some(AzureHost::Arm));
        assert_eq!(AzureHost::of("graph.microsoft.com"), Some(AzureHost::Graph));
        assert_eq!(
            AzureHost::of("KV-Demo-01.vault.azure.net"),
            Some(AzureHost::Vault {
                name: "kv-demo-01".into()
            })
        );
        assert_eq!(
            AzureHost::of("aks-demo-dns-1a2b3c4d.hcp.westeurope.azmk8s.io"),
            Some(AzureHost::ApiServer {
                fqdn: "aks-demo-dns-1a2b3c4d.hcp.westeurope.azmk8s.io".into()
            })
        );
        assert_eq!(
            AzureHost::of("westeurope.oic.prod-aks.azure.com"),
            Some(AzureHost::OidcIssuer {
                host: "westeurope.oic.prod-aks.azure.com".into()
            })
        );
    }

    #[test]
    fn other_hosts_are_not_emulated() {
        for host in [
            "example.com",
            "management.azure.com.evil.example",
            "vault.azure.net",
            "a.vault.azure.net",
            "-bad-.vault.azure.net",
            "x.y.vault.azure.net",
            "azmk8s.io",
            "foo.azmk8s.io",
            "pypi.org",
            "127.0.0.1",
        ] {
            assert_eq!(AzureHost::of(host), None, "{host}");
        }
    }
}
