//! The Key Vault firewall's values: IP rules and virtual network subnet IDs.

use std::net::Ipv4Addr;

use crate::plan::names::azure::guid;
use crate::plan::names::rule::{Invalid, Rule};

pub const IP_RULE: Rule = Rule {
    what: "IP rule",
    check: ip_rule,
};
pub const SUBNET_ID: Rule = Rule {
    what: "subnet ID",
    check: subnet_id,
};

/// An IPv4 address (`203.0.113.7`) or range in CIDR notation (`203.0.113.0/24`); the Key Vault
/// firewall takes no IPv6.
pub fn ip_rule(text: &str) -> Result<(), Invalid> {
    const HINT: &str = "write an IPv4 address such as `203.0.113.7` or a range such as \
                        `203.0.113.0/24`";
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (text, None),
    };
    if address.contains(':') {
        return Err(Invalid::new(
            "is an IPv6 address",
            "the Key Vault firewall takes IPv4 addresses and ranges only",
        ));
    }
    if address.parse::<Ipv4Addr>().is_err() {
        return Err(Invalid::new("is not an IPv4 address", HINT));
    }
    match prefix.map(str::parse::<u8>) {
        None => Ok(()),
        Some(Ok(bits)) if bits <= 32 => Ok(()),
        Some(_) => Err(Invalid::new("has a prefix length that is not 0-32", HINT)),
    }
}

/// `/subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/
/// {vnet}/subnets/{subnet}`; the fixed segments compare case-insensitively, as ARM does.
pub fn subnet_id(text: &str) -> Result<(), Invalid> {
    let parts: Vec<&str> = text.split('/').collect();
    let fixed = [
        (0, ""),
        (1, "subscriptions"),
        (3, "resourceGroups"),
        (5, "providers"),
        (6, "Microsoft.Network"),
        (7, "virtualNetworks"),
        (9, "subnets"),
    ];
    let shaped = parts.len() == 11
        && fixed.iter().all(|(index, word)| {
            parts
                .get(*index)
                .is_some_and(|part| part.eq_ignore_ascii_case(word))
        })
        && parts.get(2).is_some_and(|sub| guid(sub).is_ok())
        && [4, 8, 10]
            .iter()
            .all(|index| parts.get(*index).is_some_and(|part| !part.is_empty()));
    if shaped {
        Ok(())
    } else {
        Err(Invalid::new(
            "is not a subnet resource ID",
            "write `/subscriptions/SUBSCRIPTION/resourceGroups/RG/providers/Microsoft.Network/\
             virtualNetworks/VNET/subnets/SUBNET` (`az network vnet subnet show --query id`)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::names::rule::assert_rule;

    #[test]
    fn ip_rules() {
        assert_rule(
            &IP_RULE,
            &["203.0.113.7", "203.0.113.0/24", "0.0.0.0/0"],
            &[
                ("203.0.113.0/33", "has a prefix length that is not 0-32"),
                ("203.0.113", "is not an IPv4 address"),
                ("2001:db8::/32", "is an IPv6 address"),
                ("example.com", "is not an IPv4 address"),
                ("10.0.0.0/x", "has a prefix length that is not 0-32"),
            ],
        );
    }

    #[test]
    fn subnet_ids() {
        let good = "/subscriptions/3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8/resourceGroups/rg-net/\
                    providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/aks";
        let lower = good.to_lowercase();
        assert_rule(
            &SUBNET_ID,
            &[good, &lower],
            &[
                ("vnet-hub/aks", "is not a subnet resource ID"),
                (
                    &good.replace("/subnets/aks", "/subnets/"),
                    "is not a subnet resource ID",
                ),
                (
                    &good.replace("3f2a1b4c", "nope"),
                    "is not a subnet resource ID",
                ),
                (&format!("{good}/extra"), "is not a subnet resource ID"),
            ],
        );
    }
}
