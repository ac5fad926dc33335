//! The vault firewall, checked once the caller is known (Key Vault names the caller in its
//! denials) and before the caller's permissions: `publicNetworkAccess: Disabled` refuses every
//! request (the sandbox has no private endpoints), and `networkAcls.defaultAction: Deny` admits
//! only an address in `ipRules` or a subnet in `virtualNetworkRules`. The `AzureServices`
//! bypass is for Azure's trusted services, which neither AKS nor a user's machine is
//! (wave2-facts.md, "Mounting"), so it admits nobody here.
//!
//! The texts are those of captured Key Vault denials (azure-arm-facts.md §3).

use std::net::{IpAddr, Ipv4Addr};

use http::StatusCode;
use ipnet::Ipv4Net;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::exchange::{Origin, Resp};
use crate::model::Vault;

/// `Ok` when the firewall lets a request from `origin` reach `vault`, else Key Vault's 403.
pub fn admit(tenant_id: &str, vault: &Vault, caller: &Caller, origin: &Origin) -> Result<(), Resp> {
    let caller_text = format!(
        "appid={};oid={};iss=https://sts.windows.net/{tenant_id}/",
        caller.app_id.as_deref().unwrap_or("unknown"),
        caller.object_id,
    );
    let vault_text = format!("{};location={}", vault.name, vault.location);
    let properties = &vault.properties;
    if properties
        .public_network_access
        .eq_ignore_ascii_case("disabled")
    {
        return Err(denial(
            format!(
                "Public network access is disabled and request is not from a trusted service nor via an approved private link.\r\nCaller: {caller_text}\r\nVault: {vault_text}"
            ),
            "ForbiddenByConnection",
        ));
    }
    let acls = &properties.network_acls;
    if !acls.default_action.eq_ignore_ascii_case("deny") {
        return Ok(());
    }
    let by_address = acls
        .ip_rules
        .iter()
        .filter_map(|rule| rule["value"].as_str())
        .any(|rule| in_range(origin.address, rule));
    let by_subnet = acls
        .virtual_network_rules
        .iter()
        .filter_map(|rule| rule["id"].as_str())
        .any(|rule| {
            origin
                .subnets
                .iter()
                .any(|subnet| subnet.eq_ignore_ascii_case(rule))
        });
    if by_address || by_subnet {
        return Ok(());
    }
    Err(denial(
        format!(
            "Client address is not authorized and caller is not a trusted service.\r\nClient address: {}\r\nCaller: {caller_text}\r\nVault: {vault_text}",
            origin.address
        ),
        "ForbiddenByFirewall",
    ))
}

fn denial(message: String, inner: &str) -> Resp {
    let body: Value = json!({"error": {
        "code": "Forbidden",
        "message": message,
        "innererror": {"code": inner}
    }});
    Resp::json(StatusCode::FORBIDDEN, &body)
}

/// Whether `address` is in `rule`, an IPv4 address or CIDR range (Key Vault's IP rules are
/// IPv4 only).
fn in_range(address: IpAddr, rule: &str) -> bool {
    let IpAddr::V4(address) = address else {
        return false;
    };
    let rule = rule.trim();
    rule.parse::<Ipv4Net>()
        .or_else(|_| rule.parse::<Ipv4Addr>().map(Ipv4Net::from))
        .is_ok_and(|range| range.contains(&address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_rules_match_addresses_and_ranges() {
        let address = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));
        assert!(in_range(address, "203.0.113.0/24"));
        assert!(in_range(address, "203.0.113.7"));
        assert!(in_range(address, "0.0.0.0/0"));
        assert!(!in_range(address, "203.0.114.0/24"));
        assert!(!in_range(address, "203.0.113.8/32"));
        assert!(!in_range(address, "not an address"));
        assert!(!in_range("::1".parse().unwrap(), "0.0.0.0/0"));
    }
}
