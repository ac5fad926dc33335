//! `PUT …/vaults/{name}/accessPolicies/{add|replace|remove}`: changing a vault's access
//! policies without a full vault PUT.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::arm::call::Call;
use crate::arm::response;
use crate::arm::vaults::{granted_at, not_found};
use crate::exchange::Resp;
use crate::model::AccessPolicyEntry;
use crate::world::World;

#[derive(Deserialize)]
struct AccessPolicyBody {
    properties: AccessPolicyList,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessPolicyList {
    access_policies: Vec<AccessPolicyEntry>,
}

/// PUT …/accessPolicies/{add|replace|remove}. `add` merges permissions into a matching entry
/// (UNVERIFIED: inferred from the example's title), `replace` swaps its permissions, `remove`
/// drops the matching entry.
pub fn update(call: &Call<'_>, world: &mut World, rg: &str, name: &str, kind: &str) -> Resp {
    let kind = kind.to_ascii_lowercase();
    if !matches!(kind.as_str(), "add" | "replace" | "remove") {
        return response::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("The operation kind '{kind}' is not valid; use add, replace or remove."),
        );
    }
    let Some(mut vault) = world.vault(rg, name).cloned() else {
        return not_found(rg, name);
    };
    let body: AccessPolicyBody = match call.req.json() {
        Ok(body) => body,
        Err(error) => return response::invalid_body(error),
    };
    let mut policies = vault.properties.access_policies.clone();
    for entry in body.properties.access_policies {
        let position = policies.iter().position(|old| old.same_identity(&entry));
        match (kind.as_str(), position.and_then(|i| policies.get_mut(i))) {
            ("remove", Some(_)) => policies.retain(|old| !old.same_identity(&entry)),
            ("remove", None) => {}
            ("add", Some(old)) => {
                let p = &mut old.permissions;
                for (list, new) in [
                    (&mut p.keys, entry.permissions.keys),
                    (&mut p.secrets, entry.permissions.secrets),
                    (&mut p.certificates, entry.permissions.certificates),
                    (&mut p.storage, entry.permissions.storage),
                ] {
                    for permission in new {
                        if !list
                            .iter()
                            .any(|have| have.eq_ignore_ascii_case(&permission))
                        {
                            list.push(permission);
                        }
                    }
                }
            }
            (_, Some(old)) => old.permissions = entry.permissions,
            (_, None) => policies.push(entry),
        }
    }
    vault.policy_granted_at = granted_at(&vault, &policies, call.ctx.now);
    vault.properties.access_policies = policies;
    vault.modified_at = call.ctx.now;
    vault.modified_by = call.actor();
    let value = json!({
        "id": format!("{}/accessPolicies/", world.vault_id(&vault)),
        "type": "Microsoft.KeyVault/vaults/accessPolicies",
        "properties": {"accessPolicies": vault.properties.access_policies},
    });
    world.vaults.insert(name.to_ascii_lowercase(), vault);
    Resp::json(StatusCode::OK, &value)
}
