//! One authenticated data-plane call on a vault's secrets, as the operations receive it.

use http::StatusCode;

use crate::auth::Caller;
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::keyvault_data::access::{SecretOp, authorize};
use crate::keyvault_data::handler::kv_error;
use crate::model::Vault;
use crate::world::World;

pub struct SecretCall<'a> {
    pub ctx: &'a Ctx<'a>,
    pub req: &'a Req,
    pub caller: &'a Caller,
    pub vault_key: String,
}

impl SecretCall<'_> {
    pub fn vault<'w>(&self, world: &'w World) -> Option<&'w Vault> {
        world.vaults.get(&self.vault_key)
    }

    pub fn base(&self, vault: &Vault) -> String {
        self.ctx.vault_uri(&vault.name)
    }

    /// The vault, once the caller is allowed `op` on `object`.
    pub fn authorized(&self, world: &World, op: SecretOp, object: &str) -> Result<Vault, Resp> {
        let vault = self.vault(world).cloned().ok_or_else(|| {
            kv_error(
                StatusCode::NOT_FOUND,
                "VaultNotFound",
                "The vault no longer exists.",
            )
        })?;
        authorize(self.ctx, world, &vault, self.caller, op, object)?;
        Ok(vault)
    }
}
