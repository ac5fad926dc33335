//! Whether access is granted the way each vault expects: a role for an RBAC vault,
//! permissions for an access-policy vault, a grant for every identity a SecretProviderClass
//! reads with, and no purge that Azure would refuse.

use std::collections::BTreeSet;

use crate::plan::address::{Address, ResourceKind};
use crate::plan::dependencies::grant_lets_spc_read;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Authorization, Grant, OnDestroy, Plan, Spanned, SpcIdentity, Vault};
use crate::plan::suggest::shown;

/// A grant's form must match its vault's `authorization`.
pub(super) fn grant_forms(plan: &Plan, partial: &BTreeSet<Address>, out: &mut Vec<Diagnostic>) {
    for (key, grant) in &plan.grants {
        let Some(vault) = plan.vaults.get(&grant.vault.value) else {
            continue;
        };
        // A role, permissions list or authorization that did not decode is already reported.
        if partial.contains(&Address::grant(key))
            || partial.contains(&Address::vault(&grant.vault.value))
        {
            continue;
        }
        match vault.authorization.value {
            Authorization::Rbac => rbac_grant(key, grant, vault, out),
            Authorization::AccessPolicies => access_policy_grant(key, grant, vault, out),
        }
    }
}

fn permission_lists(grant: &Grant) -> Vec<(&'static str, &Spanned<Vec<String>>)> {
    [
        ("secret_permissions", grant.secret_permissions.as_ref()),
        ("key_permissions", grant.key_permissions.as_ref()),
        (
            "certificate_permissions",
            grant.certificate_permissions.as_ref(),
        ),
    ]
    .into_iter()
    .filter_map(|(name, list)| list.map(|list| (name, list)))
    .collect()
}

fn rbac_grant(key: &str, grant: &Grant, vault: &Vault, out: &mut Vec<Diagnostic>) {
    let vault_label = format!("`vault.{}` uses RBAC", grant.vault.value);
    let lists = permission_lists(grant);
    // Permissions instead of a role are one mistake, reported once, at the permissions.
    if grant.role.is_none() && lists.is_empty() {
        out.push(
            Diagnostic::error(
                "grant-mismatch",
                format!("`grant.{key}` has no `role`, which an RBAC vault needs"),
                grant.key_span.clone(),
            )
            .with_label("no `role`")
            .with_related(vault.authorization.span.clone(), vault_label.clone())
            .with_help("add `role = \"Key Vault Secrets User\"` (read secrets) or another role"),
        );
    }
    for (name, list) in lists {
        out.push(
            Diagnostic::error(
                "grant-mismatch",
                format!("`{name}` does not apply to an RBAC vault"),
                list.span.clone(),
            )
            .with_label("access-policy permissions")
            .with_related(vault.authorization.span.clone(), vault_label.clone())
            .with_help(format!(
                "RBAC vaults grant roles: remove `{name}` and set `role`, or set \
                 `authorization = \"access-policies\"` on `vault.{}`",
                grant.vault.value
            )),
        );
    }
}

fn access_policy_grant(key: &str, grant: &Grant, vault: &Vault, out: &mut Vec<Diagnostic>) {
    let vault_label = format!("`vault.{}` uses access policies", grant.vault.value);
    if let Some(role) = &grant.role {
        out.push(
            Diagnostic::error(
                "grant-mismatch",
                "`role` does not apply to an access-policy vault",
                role.span.clone(),
            )
            .with_label("RBAC role")
            .with_related(vault.authorization.span.clone(), vault_label.clone())
            .with_help(format!(
                "access-policy vaults grant permissions: replace `role` with \
                 `secret_permissions = [\"get\"]`, or set `authorization = \"rbac\"` on \
                 `vault.{}`",
                grant.vault.value
            )),
        );
    }
    let lists = permission_lists(grant);
    // A role instead of permissions is one mistake, reported once, at the role.
    if grant.role.is_none() && lists.iter().all(|(_, list)| list.value.is_empty()) {
        let span = lists
            .first()
            .map_or(grant.key_span.clone(), |(_, list)| list.span.clone());
        out.push(
            Diagnostic::error(
                "grant-mismatch",
                format!("`grant.{key}` gives no permissions"),
                span,
            )
            .with_label("no permissions")
            .with_related(vault.authorization.span.clone(), vault_label)
            .with_help(
                "add `secret_permissions = [\"get\"]` (read secrets), or `key_permissions` / \
                 `certificate_permissions`",
            ),
        );
    }
}

/// Warns when no grant lets a SecretProviderClass's identity read its vault: the pods'
/// volume mount would fail with 403.
pub(super) fn ungranted_identities(
    plan: &Plan,
    defined: &BTreeSet<Address>,
    out: &mut Vec<Diagnostic>,
) {
    // A grant with its own problems is not in the plan; it may be the missing one.
    let grants_defined = defined
        .iter()
        .filter(|address| address.kind == ResourceKind::Grant)
        .count();
    if grants_defined != plan.grants.len() {
        return;
    }
    for (key, spc) in &plan.spcs {
        // Another cluster's add-on identity is an error of its own (`foreign_addon_identities`).
        let foreign = matches!(&spc.identity.value, SpcIdentity::Addon(addon) if addon.value != spc.addon.value);
        if foreign
            || !plan.vaults.contains_key(&spc.vault.value)
            || plan
                .grants
                .values()
                .any(|grant| grant_lets_spc_read(grant, spc))
        {
            continue;
        }
        let vault = shown(&spc.vault.value);
        let principal = match &spc.identity.value {
            SpcIdentity::Addon(addon) => format!("{{ addon = \"{}\" }}", shown(&addon.value)),
            SpcIdentity::Identity(identity) => {
                format!("{{ identity = \"{}\" }}", shown(&identity.value))
            }
            SpcIdentity::WorkloadIdentity { client_id } => format!(
                "{{ workload_identity = {{ client_id = \"{}\", object_id = \"…\" }} }}",
                shown(client_id)
            ),
        };
        out.push(
            Diagnostic::warning(
                "no-grant",
                format!("no grant lets the identity of `spc.{key}` read vault `{vault}`"),
                spc.identity.span.clone(),
            )
            .with_label("this identity has no grant on the vault")
            .with_help(format!(
                "add a `[grant.KEY]` with `vault = \"{vault}\"` and `principal = {principal}`; \
                 without one, pods mounting this class fail with 403 Forbidden"
            )),
        );
    }
}

/// Azure refuses to purge a vault under purge protection until its retention period ends.
pub(super) fn impossible_purges(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (key, vault) in &plan.vaults {
        if vault.on_destroy.value == OnDestroy::Purge && vault.purge_protection.value {
            out.push(
                Diagnostic::error(
                    "purge-protected",
                    format!("`vault.{key}` cannot be purged: it has purge protection"),
                    vault.on_destroy.span.clone(),
                )
                .with_label("Azure refuses this purge")
                .with_related(vault.purge_protection.span.clone(), "purge protection on")
                .with_help(
                    "purge protection keeps a deleted vault until its retention ends and cannot \
                     be turned off: use `on_destroy = \"delete\"` or `\"retain\"`",
                ),
            );
        }
    }
}
