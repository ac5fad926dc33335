//! What a grant may give: access-policy permission names per list and RBAC roles.
//!
//! Permission names are the `Microsoft.KeyVault` access-policy enums (api-version 2026-02-01),
//! spelled as the REST API spells them. ARM compares them case-insensitively, but vaultwire
//! asks for the exact spelling so that the plan, the state and the live vault never differ
//! only in case.

use crate::plan::model::{BuiltInRole, Role};
use crate::plan::names::azure::guid;
use crate::plan::names::rule::{Invalid, Rule};
use crate::plan::suggest::did_you_mean_or_list;

pub const SECRET_PERMISSIONS: [&str; 9] = [
    "all", "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];

pub const KEY_PERMISSIONS: [&str; 21] = [
    "all",
    "encrypt",
    "decrypt",
    "wrapKey",
    "unwrapKey",
    "sign",
    "verify",
    "get",
    "list",
    "create",
    "update",
    "import",
    "delete",
    "backup",
    "restore",
    "recover",
    "purge",
    "release",
    "rotate",
    "getrotationpolicy",
    "setrotationpolicy",
];

pub const CERTIFICATE_PERMISSIONS: [&str; 17] = [
    "all",
    "get",
    "list",
    "delete",
    "create",
    "import",
    "update",
    "managecontacts",
    "getissuers",
    "listissuers",
    "setissuers",
    "deleteissuers",
    "manageissuers",
    "recover",
    "purge",
    "backup",
    "restore",
];

pub const SECRET_PERMISSION: Rule = Rule {
    what: "secret permission",
    check: secret_permission,
};
pub const KEY_PERMISSION: Rule = Rule {
    what: "key permission",
    check: key_permission,
};
pub const CERTIFICATE_PERMISSION: Rule = Rule {
    what: "certificate permission",
    check: certificate_permission,
};
pub const ROLE: Rule = Rule {
    what: "role",
    check: role_check,
};

pub fn secret_permission(name: &str) -> Result<(), Invalid> {
    permission(name, &SECRET_PERMISSIONS, "secret permissions are")
}

pub fn key_permission(name: &str) -> Result<(), Invalid> {
    permission(name, &KEY_PERMISSIONS, "key permissions are")
}

pub fn certificate_permission(name: &str) -> Result<(), Invalid> {
    permission(
        name,
        &CERTIFICATE_PERMISSIONS,
        "certificate permissions are",
    )
}

fn permission(name: &str, allowed: &[&str], intro: &str) -> Result<(), Invalid> {
    if allowed.contains(&name) {
        return Ok(());
    }
    Err(Invalid::new(
        "is not a permission of this list",
        did_you_mean_or_list(name, allowed, intro),
    ))
}

/// A built-in Key Vault role by its display name, or any role definition by GUID.
pub fn role(text: &str) -> Result<Role, Invalid> {
    if let Some(builtin) = BuiltInRole::from_name(text) {
        return Ok(Role::BuiltIn(builtin));
    }
    if guid(text).is_ok() {
        return Ok(Role::DefinitionId(text.to_ascii_lowercase()));
    }
    let names: Vec<&str> = BuiltInRole::ALL.iter().map(|role| role.name()).collect();
    let hint = match crate::plan::suggest::closest(text, names.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!(
            "name a built-in role ({}) or give the role definition GUID of another role",
            crate::plan::suggest::one_of(names.iter().copied())
        ),
    };
    Err(Invalid::new(
        "is neither a built-in Key Vault role nor a role definition GUID",
        hint,
    ))
}

fn role_check(text: &str) -> Result<(), Invalid> {
    role(text).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_checked_per_list() {
        assert_eq!(secret_permission("get"), Ok(()));
        assert_eq!(key_permission("wrapKey"), Ok(()));
        assert_eq!(certificate_permission("managecontacts"), Ok(()));
        assert!(secret_permission("wrapKey").is_err());
        assert!(certificate_permission("sign").is_err());
        assert_eq!(
            key_permission("wrapkey").unwrap_err().hint,
            "did you mean `wrapKey`?"
        );
        assert_eq!(
            secret_permission("read").unwrap_err().hint,
            "secret permissions are `all`, `get`, `list`, `set`, `delete`, `backup`, `restore`, \
             `recover` or `purge`"
        );
    }

    #[test]
    fn roles_by_name_or_guid() {
        assert_eq!(
            role("Key Vault Secrets User"),
            Ok(Role::BuiltIn(BuiltInRole::SecretsUser))
        );
        assert_eq!(
            role("00482A5A-887F-4FB3-B363-3B7FE8E74483"),
            Ok(Role::DefinitionId(
                "00482a5a-887f-4fb3-b363-3b7fe8e74483".into()
            ))
        );
        assert_eq!(
            role("Key Vault Secret User").unwrap_err().hint,
            "did you mean `Key Vault Secrets User`?"
        );
        assert!(
            role("Owner")
                .unwrap_err()
                .hint
                .starts_with("name a built-in role (")
        );
    }
}
