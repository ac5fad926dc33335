//! Who may do what to a vault's secrets: Azure RBAC data actions (RBAC vaults) or access-policy
//! permissions (access-policy vaults), effective only after the propagation delay.

use http::StatusCode;
use serde_json::json;

use crate::auth::Caller;
use crate::context::{Ctx, later};
use crate::exchange::Resp;
use crate::model::Vault;
use crate::model::rbac::builtin_role;
use crate::world::{World, scope_contains};

/// A secret operation, with its RBAC data action and access-policy permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretOp {
    Get,
    Set,
    List,
    Delete,
    Update,
    GetDeleted,
    ListDeleted,
    Purge,
    Recover,
}

impl SecretOp {
    pub fn data_action(self) -> &'static str {
        match self {
            SecretOp::Get => "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            SecretOp::Set => "Microsoft.KeyVault/vaults/secrets/setSecret/action",
            SecretOp::List | SecretOp::GetDeleted | SecretOp::ListDeleted => {
                "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
            }
            SecretOp::Delete => "Microsoft.KeyVault/vaults/secrets/delete",
            SecretOp::Update => "Microsoft.KeyVault/vaults/secrets/update/action",
            SecretOp::Purge => "Microsoft.KeyVault/vaults/secrets/purge/action",
            SecretOp::Recover => "Microsoft.KeyVault/vaults/secrets/recover/action",
        }
    }

    pub fn permission(self) -> &'static str {
        match self {
            SecretOp::Get => "get",
            SecretOp::Set | SecretOp::Update => "set",
            SecretOp::List | SecretOp::ListDeleted | SecretOp::GetDeleted => "list",
            SecretOp::Delete => "delete",
            SecretOp::Purge => "purge",
            SecretOp::Recover => "recover",
        }
    }
}

/// `Ok` when `caller` may perform `op` on `vault` at `ctx.now`, else the 403 Key Vault sends.
pub fn authorize(
    ctx: &Ctx<'_>,
    world: &World,
    vault: &Vault,
    caller: &Caller,
    op: SecretOp,
    object: &str,
) -> Result<(), Resp> {
    let effective = |since: jiff::Timestamp| ctx.now >= later(since, ctx.rbac_delay);
    let vault_id = world.vault_id(vault);
    let oid = caller.object_id.to_ascii_lowercase();
    let allowed = if vault.properties.enable_rbac_authorization {
        world.role_assignments.values().any(|a| {
            a.principal_id.eq_ignore_ascii_case(&oid)
                && scope_contains(&a.scope, &vault_id)
                && builtin_role(&a.role_definition)
                    .is_some_and(|role| role.allows_data_action(op.data_action()))
                && effective(a.created_on)
        })
    } else {
        vault.properties.access_policies.iter().any(|entry| {
            entry.object_id.eq_ignore_ascii_case(&oid)
                && entry.tenant_id.eq_ignore_ascii_case(&world.tenant_id)
                && entry.permissions.secrets.iter().any(|p| {
                    p.eq_ignore_ascii_case(op.permission()) || p.eq_ignore_ascii_case("all")
                })
                && vault
                    .policy_granted_at
                    .get(&oid)
                    .is_none_or(|since| effective(*since))
        })
    };
    if allowed {
        return Ok(());
    }
    let caller_text = format!(
        "appid={};oid={};iss=https://sts.windows.net/{}/",
        caller.app_id.as_deref().unwrap_or("unknown"),
        caller.object_id,
        world.tenant_id
    );
    let body = if vault.properties.enable_rbac_authorization {
        let resource = format!("{vault_id}/secrets/{object}").to_ascii_lowercase();
        json!({"error": {
            "code": "Forbidden",
            "message": format!(
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: {caller_text}\r\nAction: '{}'\r\nResource: '{resource}'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {};location={}\r\n",
                op.data_action(), vault.name, vault.location
            ),
            "innererror": {"code": "ForbiddenByRbac"}
        }})
    } else {
        // UNVERIFIED innererror code for the access-policy model.
        json!({"error": {
            "code": "Forbidden",
            "message": format!(
                "The user, group or application '{caller_text}' does not have secrets {} permission on key vault '{};location={}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
                op.permission(), vault.name, vault.location
            ),
            "innererror": {"code": "AccessDenied"}
        }})
    };
    Err(Resp::json(StatusCode::FORBIDDEN, &body))
}
