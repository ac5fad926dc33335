//! AKS managed clusters as the sandbox stores them.
//!
//! `properties` stays a JSON object: a PUT is a full replace of a large, versioned document,
//! and the sandbox only owns its read-only parts (provisioning state, FQDNs, add-on
//! identities), so unknown fields round-trip untouched.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedCluster {
    pub name: String,
    pub resource_group: String,
    pub location: String,
    pub tags: BTreeMap<String, String>,
    pub sku: Option<serde_json::Value>,
    pub identity: Option<serde_json::Value>,
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub etag: String,
    /// The operation in flight, if any.
    pub operation: Option<ClusterOperation>,
}

/// A running managed-cluster operation (an ARM long-running operation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterOperation {
    pub id: String,
    /// `Creating` or `Updating`.
    pub state: String,
    pub started: jiff::Timestamp,
    pub completes: jiff::Timestamp,
}

impl ManagedCluster {
    pub fn id(&self, subscription_id: &str) -> String {
        format!(
            "/subscriptions/{subscription_id}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.resource_group, self.name
        )
    }

    pub fn addon_profiles(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.properties
            .get("addonProfiles")
            .and_then(serde_json::Value::as_object)
    }

    /// Whether add-on `key` (matched case-insensitively, as azure-cli does) is enabled.
    pub fn addon_enabled(&self, key: &str) -> bool {
        self.addon_profiles().is_some_and(|profiles| {
            profiles.iter().any(|(name, profile)| {
                name.eq_ignore_ascii_case(key)
                    && profile.get("enabled").and_then(serde_json::Value::as_bool) == Some(true)
            })
        })
    }

    /// The Key Vault add-on's rotation poll interval while the add-on is enabled with
    /// `enableSecretRotation: "true"`: its `rotationPollInterval`, `2m` when unset or not a Go
    /// duration, as azure-cli defaults it (azure-arm-facts.md).
    pub fn secret_rotation_interval(&self) -> Option<std::time::Duration> {
        const DEFAULT: std::time::Duration = std::time::Duration::from_secs(120);
        let profile = self
            .addon_profiles()?
            .iter()
            .find(|(name, profile)| {
                name.eq_ignore_ascii_case("azureKeyvaultSecretsProvider")
                    && profile.get("enabled").and_then(serde_json::Value::as_bool) == Some(true)
            })?
            .1;
        let config = profile.get("config")?;
        let enabled = config.get("enableSecretRotation")?.as_str()?;
        if !enabled.eq_ignore_ascii_case("true") {
            return None;
        }
        let interval = config
            .get("rotationPollInterval")
            .and_then(serde_json::Value::as_str)
            .and_then(go_duration)
            .filter(|interval| !interval.is_zero())
            .unwrap_or(DEFAULT);
        Some(interval)
    }

    pub fn node_resource_group(&self) -> String {
        self.properties
            .get("nodeResourceGroup")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!("MC_{}_{}_{}", self.resource_group, self.name, self.location)
            })
    }
}

/// Where a cluster's pods reach a vault from, as its firewall sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Egress {
    /// The load balancer's outbound public IPs: `(resource ID, address)`.
    pub public_ips: Vec<(String, std::net::Ipv4Addr)>,
    /// The node pools' subnets (`agentPoolProfiles[].vnetSubnetID`).
    pub subnets: Vec<String>,
}

impl ManagedCluster {
    /// The cluster's egress: the outbound IPs AKS put on its load balancer and the node
    /// pools' subnets.
    pub fn egress(&self) -> Egress {
        let public_ips = self
            .properties
            .get("networkProfile")
            .and_then(|network| network.pointer("/loadBalancerProfile/effectiveOutboundIPs"))
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|ip| ip.get("id")?.as_str())
            .map(|id| (id.to_owned(), public_ip_address(id)))
            .collect();
        let subnets = self
            .properties
            .get("agentPoolProfiles")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|pool| pool.get("vnetSubnetID")?.as_str())
            .map(str::to_owned)
            .collect();
        Egress {
            public_ips,
            subnets,
        }
    }
}

/// Go's `time.ParseDuration` for the units an interval uses (`2m`, `90s`, `1m30s`, `1.5h`,
/// `500ms`); `None` when it is not one.
pub fn go_duration(text: &str) -> Option<std::time::Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest.get(..number_end)?.parse().ok()?;
        rest = rest.get(number_end..)?;
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match rest.get(..unit_end)? {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = rest.get(unit_end..)?;
        total += number * seconds;
    }
    std::time::Duration::try_from_secs_f64(total).ok()
}

/// The address of a public IP resource the sandbox made: stable for its ID, in 20.0.0.0/8
/// (a range Azure allocates public IPs from).
pub fn public_ip_address(id: &str) -> std::net::Ipv4Addr {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.to_ascii_lowercase().as_bytes());
    std::net::Ipv4Addr::new(20, digest[0], digest[1], digest[2] % 254 + 1)
}

/// A long-running operation, kept after it finishes so status URLs keep answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operation {
    pub id: String,
    pub kind: OperationKind,
    pub started: jiff::Timestamp,
    pub completes: jiff::Timestamp,
    pub finished: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum OperationKind {
    /// A managed-cluster PUT; `cluster` is the world's cluster key.
    Cluster { cluster: String },
    /// Purging the soft-deleted vault `vault` (lower-cased name).
    PurgeVault { vault: String },
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn go_durations_parse_as_time_parse_duration_does() {
        assert_eq!(go_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("2 minutes"), None);
        assert_eq!(go_duration("120"), None);
        assert_eq!(go_duration(""), None);
    }
}
