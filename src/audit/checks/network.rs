//! `spc-vault-network`: the vault a SecretProviderClass of the plan reads admits the cluster's
//! nodes through its firewall — one of the cluster's outbound IPs is in `ipRules`, or a node
//! subnet in `virtualNetworkRules`. The `AzureServices` bypass does not cover AKS
//! (wave2-facts.md, "Mounting"), so it counts for nothing. Judged from ARM documents only. Pure.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::spc::Subject;
use super::vault::evidence;
use crate::audit::catalog::CheckId;
use crate::audit::gather::Gathered;
use crate::audit::model::{Check, Status};
use crate::plan::model::{NetworkDefaultAction, Plan, PublicNetworkAccess, Spc};

pub fn check(plan: &Plan, key: &str, spc: &Spc, gathered: &Gathered) -> Check {
    let subject = Subject::of(plan, key, spc);
    let skip = |reason: String| subject.check(CheckId::SpcVaultNetwork, Status::Skip, reason);
    let Some(vault) = gathered
        .vaults
        .get(spc.vault.as_str())
        .and_then(|data| data.vault.as_ref())
    else {
        return skip(format!(
            "the vault of `vault.{}` does not exist",
            spc.vault.value
        ));
    };
    let Some(egress) = gathered
        .clusters
        .get(spc.addon.as_str())
        .and_then(|cluster| cluster.egress.as_ref())
    else {
        return skip("the cluster was not read".to_owned());
    };
    if vault.public_network_access == PublicNetworkAccess::Disabled {
        return skip(format!(
            "public network access to `{}` is disabled: pods reach it only through a private endpoint, which the audit does not read",
            vault.name
        ));
    }
    let Some(acls) = vault
        .network_acls
        .as_ref()
        .filter(|acls| acls.default_action == NetworkDefaultAction::Deny)
    else {
        return subject
            .check(
                CheckId::SpcVaultNetwork,
                Status::Pass,
                format!("the firewall of `{}` admits every network", vault.name),
            )
            .with_evidence(vec![evidence(
                vault,
                "networkAcls.defaultAction",
                "Allow".to_owned(),
            )]);
    };
    if egress.addresses.is_empty() && egress.subnets.is_empty() {
        return skip("the cluster reports no outbound IP and no node subnet".to_owned());
    }
    let mut admitted = Vec::new();
    let mut denied = Vec::new();
    for address in &egress.addresses {
        match acls.ip_rules.iter().find(|rule| in_range(address, rule)) {
            Some(rule) => admitted.push(evidence(
                vault,
                "networkAcls.ipRules",
                format!("the cluster's outbound IP {address} is in `{rule}`"),
            )),
            None => denied.push(evidence(
                vault,
                "networkAcls.ipRules",
                format!("the cluster's outbound IP {address} is in no IP rule"),
            )),
        }
    }
    for subnet in &egress.subnets {
        let listed = acls
            .virtual_network_subnet_ids
            .iter()
            .any(|rule| rule.eq_ignore_ascii_case(subnet));
        let (list, detail) = if listed {
            (
                &mut admitted,
                format!("the node subnet `{subnet}` is allowed"),
            )
        } else {
            (
                &mut denied,
                format!("the node subnet `{subnet}` is in no virtual network rule"),
            )
        };
        list.push(evidence(vault, "networkAcls.virtualNetworkRules", detail));
    }
    if admitted.is_empty() {
        subject
            .check(
                CheckId::SpcVaultNetwork,
                CheckId::SpcVaultNetwork.severity(),
                format!(
                    "the firewall of `{}` denies the cluster's nodes: pods that mount the class fail with ForbiddenByFirewall",
                    vault.name
                ),
            )
            .with_evidence(denied)
    } else {
        subject
            .check(
                CheckId::SpcVaultNetwork,
                Status::Pass,
                format!(
                    "the firewall of `{}` admits the cluster's nodes",
                    vault.name
                ),
            )
            .with_evidence(admitted)
    }
}

/// Whether the IPv4 `address` is in `rule`, an address or CIDR range as Key Vault's IP rules
/// take them.
fn in_range(address: &str, rule: &str) -> bool {
    let (Ok(address), rule) = (address.parse::<Ipv4Addr>(), rule.trim()) else {
        return false;
    };
    rule.parse::<Ipv4Net>()
        .or_else(|_| rule.parse::<Ipv4Addr>().map(Ipv4Net::from))
        .is_ok_and(|range| range.contains(&address))
}

#[cfg(test)]
mod tests {
    use super::in_range;

    #[test]
    fn ip_rules_match_single_addresses_and_ranges() {
        assert!(in_range("20.21.107.155", "20.21.107.155"));
        assert!(in_range("20.21.107.155", "20.21.0.0/16"));
        assert!(!in_range("20.21.107.155", "203.0.113.0/24"));
        assert!(!in_range("20.21.107.155", "garbage"));
        assert!(in_range("20.21.107.155", "0.0.0.0/0"));
    }
}
