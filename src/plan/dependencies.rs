//! The resource graph of a plan: one node per address, an edge for every dependency in
//! DESIGN.md's table, plus the user's `depends_on`.
//!
//! | kind    | depends on                                                                    |
//! |---------|-------------------------------------------------------------------------------|
//! | `vault` | —                                                                             |
//! | `addon` | —                                                                             |
//! | `identity` | —                                                                          |
//! | `federation` | its identity; the add-on whose cluster's issuer it trusts                |
//! | `grant` | its vault; the add-on or identity whose principal it grants                    |
//! | `spc`   | its add-on (the CRD exists only with it), its vault, its identity, the grants that let that identity read the vault, and the identity's federations on its cluster |
//!
//! References to resources the plan does not define are left out here; `plan::validate`
//! reports them.

use crate::graph::dag::Dag;
use crate::plan::address::Address;
use crate::plan::model::{Grant, Plan, Principal, Spc, SpcIdentity};

/// Every address the plan file defines — the graph's nodes, without working out its edges.
pub fn addresses(plan: &Plan) -> impl Iterator<Item = Address> + '_ {
    let vaults = plan.vaults.keys().map(Address::vault);
    let addons = plan.addons.keys().map(Address::addon);
    let identities = plan.identities.keys().map(Address::identity);
    let federations = plan.federations.keys().map(Address::federation);
    let grants = plan.grants.keys().map(Address::grant);
    let spcs = plan.spcs.keys().map(Address::spc);
    vaults
        .chain(addons)
        .chain(identities)
        .chain(federations)
        .chain(grants)
        .chain(spcs)
}

/// Builds the dependency graph of every resource in `plan`.
pub fn build(plan: &Plan) -> Dag<Address> {
    let mut dag = Dag::new();
    for address in addresses(plan) {
        dag.add_node(address);
    }
    for (key, federation) in &plan.federations {
        let address = Address::federation(key);
        if plan.identities.contains_key(federation.identity.as_str()) {
            dag.add_dependency(
                address.clone(),
                Address::identity(federation.identity.as_str()),
            );
        }
        if plan.addons.contains_key(federation.addon.as_str()) {
            dag.add_dependency(address, Address::addon(federation.addon.as_str()));
        }
    }
    for (key, grant) in &plan.grants {
        let address = Address::grant(key);
        if plan.vaults.contains_key(grant.vault.as_str()) {
            dag.add_dependency(address.clone(), Address::vault(grant.vault.as_str()));
        }
        match &grant.principal.value {
            Principal::Addon(addon) if plan.addons.contains_key(addon.as_str()) => {
                dag.add_dependency(address, Address::addon(addon.as_str()));
            }
            Principal::Identity(identity) if plan.identities.contains_key(identity.as_str()) => {
                dag.add_dependency(address, Address::identity(identity.as_str()));
            }
            _ => {}
        }
    }
    for (key, spc) in &plan.spcs {
        let address = Address::spc(key);
        if plan.addons.contains_key(spc.addon.as_str()) {
            dag.add_dependency(address.clone(), Address::addon(spc.addon.as_str()));
        }
        if plan.vaults.contains_key(spc.vault.as_str()) {
            dag.add_dependency(address.clone(), Address::vault(spc.vault.as_str()));
        }
        for (grant_key, grant) in &plan.grants {
            if grant_lets_spc_read(grant, spc) {
                dag.add_dependency(address.clone(), Address::grant(grant_key));
            }
        }
        if let SpcIdentity::Identity(identity) = &spc.identity.value
            && plan.identities.contains_key(identity.as_str())
        {
            dag.add_dependency(address.clone(), Address::identity(identity.as_str()));
            for (federation_key, federation) in &plan.federations {
                if federation.identity.value == identity.value
                    && federation.addon.value == spc.addon.value
                {
                    dag.add_dependency(address.clone(), Address::federation(federation_key));
                }
            }
        }
    }
    for (address, depends_on) in explicit_dependencies(plan) {
        for dependency in depends_on {
            if dag.contains(&dependency) {
                dag.add_dependency(address.clone(), dependency);
            }
        }
    }
    dag
}

/// Whether `grant` gives the identity `spc` uses access to the vault `spc` reads.
pub fn grant_lets_spc_read(grant: &Grant, spc: &Spc) -> bool {
    if grant.vault.value != spc.vault.value {
        return false;
    }
    match (&grant.principal.value, &spc.identity.value) {
        (Principal::Addon(granted), SpcIdentity::Addon(used))
        | (Principal::Identity(granted), SpcIdentity::Identity(used)) => {
            granted.value == used.value
        }
        (
            Principal::WorkloadIdentity { client_id, .. },
            SpcIdentity::WorkloadIdentity {
                client_id: used_client_id,
            },
        ) => client_id.eq_ignore_ascii_case(used_client_id),
        _ => false,
    }
}

/// Every resource's `depends_on`, as addresses.
fn explicit_dependencies(plan: &Plan) -> Vec<(Address, Vec<Address>)> {
    let values = |deps: &[crate::plan::model::Spanned<Address>]| {
        deps.iter().map(|dep| dep.value.clone()).collect::<Vec<_>>()
    };
    let mut all = Vec::new();
    all.extend(
        plan.vaults
            .iter()
            .map(|(key, r)| (Address::vault(key), values(&r.depends_on))),
    );
    all.extend(
        plan.addons
            .iter()
            .map(|(key, r)| (Address::addon(key), values(&r.depends_on))),
    );
    all.extend(
        plan.identities
            .iter()
            .map(|(key, r)| (Address::identity(key), values(&r.depends_on))),
    );
    all.extend(
        plan.federations
            .iter()
            .map(|(key, r)| (Address::federation(key), values(&r.depends_on))),
    );
    all.extend(
        plan.grants
            .iter()
            .map(|(key, r)| (Address::grant(key), values(&r.depends_on))),
    );
    all.extend(
        plan.spcs
            .iter()
            .map(|(key, r)| (Address::spc(key), values(&r.depends_on))),
    );
    all
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::plan::testing::example_plan;

    #[test]
    fn the_plans_addresses_are_its_graphs_nodes() {
        let (plan, _) = example_plan();
        let listed: BTreeSet<Address> = addresses(&plan).collect();
        let nodes: BTreeSet<Address> = build(&plan).nodes().cloned().collect();
        assert_eq!(listed, nodes);
        // Every kind is there to compare.
        let kinds: BTreeSet<String> = listed.iter().map(|a| format!("{:?}", a.kind)).collect();
        assert_eq!(kinds.len(), 4, "{kinds:?}");
    }
}
