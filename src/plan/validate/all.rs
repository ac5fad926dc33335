//! Runs every check across resources, in a fixed order so the output is deterministic.

use crate::plan::address::Address;
use crate::plan::decode::Decoded;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Plan, Spanned};
use crate::plan::validate::{access, cycles, duplicates, federations, references, sync};

/// Every problem across the resources of a decoded plan file.
pub fn validate(decoded: &Decoded) -> Vec<Diagnostic> {
    let Decoded {
        plan,
        defined,
        partial,
    } = decoded;
    let mut out = Vec::new();
    duplicates::vault_names(plan, &mut out);
    duplicates::addon_clusters(plan, &mut out);
    duplicates::identity_names(plan, &mut out);
    duplicates::spc_names(plan, partial, &mut out);
    duplicates::synced_secrets(plan, &mut out);
    duplicates::file_names(plan, &mut out);
    references::unknown_references(plan, defined, &mut out);
    references::unknown_dependencies(plan, defined, &mut out);
    references::foreign_addon_identities(plan, &mut out);
    federations::credentials_per_identity(plan, &mut out);
    federations::issuers_enabled(plan, &mut out);
    federations::unfederated_classes(plan, defined, &mut out);
    federations::unused_federations(plan, &mut out);
    access::grant_forms(plan, partial, &mut out);
    access::ungranted_identities(plan, defined, &mut out);
    access::impossible_purges(plan, &mut out);
    sync::unknown_objects(plan, &mut out);
    cycles::cycles(plan, &mut out);
    out
}

/// Every resource's address and its `depends_on` entries, in address order.
pub(super) fn depends_on_lists(plan: &Plan) -> Vec<(Address, &[Spanned<Address>])> {
    let mut lists: Vec<(Address, &[Spanned<Address>])> = Vec::new();
    lists.extend(
        plan.vaults
            .iter()
            .map(|(k, r)| (Address::vault(k), &r.depends_on[..])),
    );
    lists.extend(
        plan.addons
            .iter()
            .map(|(k, r)| (Address::addon(k), &r.depends_on[..])),
    );
    lists.extend(
        plan.identities
            .iter()
            .map(|(k, r)| (Address::identity(k), &r.depends_on[..])),
    );
    lists.extend(
        plan.federations
            .iter()
            .map(|(k, r)| (Address::federation(k), &r.depends_on[..])),
    );
    lists.extend(
        plan.grants
            .iter()
            .map(|(k, r)| (Address::grant(k), &r.depends_on[..])),
    );
    lists.extend(
        plan.spcs
            .iter()
            .map(|(k, r)| (Address::spc(k), &r.depends_on[..])),
    );
    lists
}
