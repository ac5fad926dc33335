//! `spc-grant`: the identity a SecretProviderClass reads with may read what it mounts from the
//! vault — by a Key Vault data role assigned at or above the vault (RBAC vaults), or by an
//! access-policy entry with `get` (access-policy vaults). Pure.

use std::collections::BTreeSet;

use super::spc::{Subject, addon_identity};
use crate::audit::catalog::CheckId;
use crate::audit::gather::Gathered;
use crate::audit::model::{Check, Evidence, Status};
use crate::plan::model::{ObjectType, Plan, Principal, Role, Spc, SpcIdentity};
use crate::providers::azure::keyvault::LiveVault;

const ADMINISTRATOR: &str = "00482a5a-887f-4fb3-b363-3b7fe8e74483";

/// Built-in roles that let the CSI provider read objects of `object_type`: the type's data
/// "User" and "Officer" roles and Key Vault Administrator.
fn reading_roles(object_type: ObjectType) -> [&'static str; 3] {
    match object_type {
        // Secrets User, Secrets Officer.
        ObjectType::Secret => [
            ADMINISTRATOR,
            "4633458b-17de-408a-b874-0445c86b69e6",
            "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        ],
        // Certificate User, Certificates Officer.
        ObjectType::Cert => [
            ADMINISTRATOR,
            "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
            "a4417e6f-fecd-4de8-b567-7b0420556985",
        ],
        // Crypto User, Crypto Officer.
        ObjectType::Key => [
            ADMINISTRATOR,
            "12338af0-0e69-4776-bea7-57ae8d297424",
            "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        ],
    }
}

fn type_name(object_type: ObjectType) -> &'static str {
    match object_type {
        ObjectType::Secret => "secrets",
        ObjectType::Cert => "certificates",
        ObjectType::Key => "keys",
    }
}

/// Whether `scope` is `target` or one of its ancestors (`/subscriptions/x` is above
/// `/subscriptions/x/resourceGroups/y/...`), compared as ARM does, case-insensitively.
fn at_or_above(scope: &str, target: &str) -> bool {
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    let target = target.trim_end_matches('/').to_ascii_lowercase();
    scope == target
        || (target.starts_with(&scope) && target.as_bytes().get(scope.len()) == Some(&b'/'))
}

/// The object ID of the identity `spc` reads with, or why it is unknown.
fn principal(plan: &Plan, spc: &Spc, gathered: &Gathered) -> Result<String, String> {
    match &spc.identity.value {
        SpcIdentity::Addon(addon) => addon_identity(gathered, addon.as_str())
            .map(|identity| identity.object_id.clone())
            .ok_or_else(|| format!("the add-on of `addon.{}` has no identity", addon.value)),
        SpcIdentity::Identity(identity) => gathered
            .managed_identities
            .get(identity.as_str())
            .map(|live| live.principal_id.clone())
            .ok_or_else(|| format!("managed identity `identity.{}` does not exist", identity.value)),
        SpcIdentity::WorkloadIdentity { client_id } => plan
            .grants
            .values()
            .find_map(|grant| match &grant.principal.value {
                Principal::WorkloadIdentity { client_id: granted, object_id }
                    if granted.eq_ignore_ascii_case(client_id) => Some(object_id.clone()),
                _ => None,
            })
            .ok_or_else(|| {
                format!("the object ID of workload identity `{client_id}` is unknown: no `[grant]` of the plan names it")
            }),
    }
}

pub fn check(plan: &Plan, key: &str, spc: &Spc, gathered: &Gathered) -> Check {
    let subject = Subject::of(plan, key, spc);
    let skip = |reason: String| subject.check(CheckId::SpcGrant, Status::Skip, reason);
    let object_id = match principal(plan, spc, gathered) {
        Ok(object_id) => object_id,
        Err(reason) => return skip(reason),
    };
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
    let needed: BTreeSet<ObjectType> = spc
        .objects
        .iter()
        .map(|object| object.object_type)
        .collect();
    let (covered, evidence) = if vault.rbac_authorization {
        by_role(plan, spc, gathered, vault, &object_id, &needed)
    } else {
        by_access_policy(vault, &object_id, &needed)
    };
    let missing: Vec<&str> = needed
        .iter()
        .filter(|t| !covered.contains(*t))
        .map(|t| type_name(*t))
        .collect();
    let model = if vault.rbac_authorization {
        "role assignment"
    } else {
        "access policy"
    };
    let (status, message) = if missing.is_empty() {
        (
            Status::Pass,
            format!(
                "identity `{object_id}` may read `{}` by {model}",
                vault.name
            ),
        )
    } else {
        (
            Status::Fail,
            format!(
                "identity `{object_id}` may not read {} in `{}`: no {model} grants it",
                missing.join(", "),
                vault.name
            ),
        )
    };
    subject
        .check(CheckId::SpcGrant, status, message)
        .with_evidence(evidence)
}

fn vault_evidence(vault: &LiveVault, field: &str, detail: String) -> Evidence {
    Evidence {
        resource: vault.name.clone(),
        namespace: None,
        kind: "Microsoft.KeyVault/vaults".to_owned(),
        name: vault.name.clone(),
        field: Some(field.to_owned()),
        secret: None,
        detail,
    }
}

fn by_role(
    plan: &Plan,
    spc: &Spc,
    gathered: &Gathered,
    vault: &LiveVault,
    object_id: &str,
    needed: &BTreeSet<ObjectType>,
) -> (BTreeSet<ObjectType>, Vec<Evidence>) {
    // A custom role the plan grants on this vault counts for every object type.
    let custom: BTreeSet<String> = plan
        .grants
        .values()
        .filter(|grant| grant.vault.value == spc.vault.value)
        .filter_map(|grant| match grant.role.as_ref().map(|role| &role.value) {
            Some(Role::DefinitionId(guid)) => Some(guid.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let assignments = gathered
        .vaults
        .get(spc.vault.as_str())
        .map(|data| data.role_assignments.as_slice())
        .unwrap_or_default();
    let mut covered = BTreeSet::new();
    let mut evidence = Vec::new();
    for assignment in assignments {
        if !assignment.principal_id.eq_ignore_ascii_case(object_id)
            || !at_or_above(&assignment.scope, &vault.id)
        {
            continue;
        }
        let guid = assignment.role_definition_guid().to_ascii_lowercase();
        let grants: Vec<ObjectType> = needed
            .iter()
            .copied()
            .filter(|t| reading_roles(*t).contains(&guid.as_str()) || custom.contains(&guid))
            .collect();
        if grants.is_empty() {
            continue;
        }
        covered.extend(grants);
        evidence.push(Evidence {
            resource: vault.name.clone(),
            namespace: None,
            kind: "Microsoft.Authorization/roleAssignments".to_owned(),
            name: assignment.name.clone(),
            field: Some("properties.roleDefinitionId".to_owned()),
            secret: None,
            detail: format!("role `{guid}` for `{object_id}` at `{}`", assignment.scope),
        });
    }
    if evidence.is_empty() {
        evidence.push(vault_evidence(
            vault,
            "roleAssignments",
            format!("no Key Vault data role for `{object_id}` at or above the vault"),
        ));
    }
    (covered, evidence)
}

fn by_access_policy(
    vault: &LiveVault,
    object_id: &str,
    needed: &BTreeSet<ObjectType>,
) -> (BTreeSet<ObjectType>, Vec<Evidence>) {
    let entry = vault.access_policies.iter().find(|entry| {
        entry.object_id.eq_ignore_ascii_case(object_id)
            && entry.tenant_id.eq_ignore_ascii_case(&vault.tenant_id)
    });
    let Some(entry) = entry else {
        return (
            BTreeSet::new(),
            vec![vault_evidence(
                vault,
                "properties.accessPolicies",
                format!("no entry for `{object_id}`"),
            )],
        );
    };
    let allows = |list: &[String]| list.iter().any(|p| p == "get" || p == "all");
    let covered = needed
        .iter()
        .copied()
        .filter(|t| match t {
            ObjectType::Secret => allows(&entry.permissions.secrets),
            ObjectType::Cert => allows(&entry.permissions.certificates),
            ObjectType::Key => allows(&entry.permissions.keys),
        })
        .collect();
    let detail = format!(
        "entry for `{object_id}`: secrets [{}], certificates [{}], keys [{}]",
        entry.permissions.secrets.join(", "),
        entry.permissions.certificates.join(", "),
        entry.permissions.keys.join(", ")
    );
    (
        covered,
        vec![vault_evidence(vault, "properties.accessPolicies", detail)],
    )
}
