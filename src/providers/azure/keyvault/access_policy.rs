//! Access-policy entries of vaults that use the access-policy model.
//!
//! vaultwire changes entries only through `accessPolicies/{add|replace|remove}`, which touch
//! the entries in the request and nothing else — never a full PUT of the vault (what
//! `az keyvault set-policy` does), which would drop an entry someone else added meanwhile.

use serde_json::{Value, json};

use crate::plan::model::Grant;

/// How `accessPolicies/{kind}` changes the entries it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessPolicyUpdateKind {
    /// Adds the entry, or adds permissions to an existing entry for the same principal.
    Add,
    /// Replaces the permissions of the entry for the same principal.
    Replace,
    /// Removes the entry for the same principal.
    Remove,
}

impl AccessPolicyUpdateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessPolicyUpdateKind::Add => "add",
            AccessPolicyUpdateKind::Replace => "replace",
            AccessPolicyUpdateKind::Remove => "remove",
        }
    }
}

/// Permission lists of an entry, lowercase, sorted and without duplicates so two entries
/// compare equal when Azure would treat them alike.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    pub keys: Vec<String>,
    pub secrets: Vec<String>,
    pub certificates: Vec<String>,
    pub storage: Vec<String>,
}

fn normalize<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = names.into_iter().map(str::to_ascii_lowercase).collect();
    names.sort();
    names.dedup();
    names
}

impl Permissions {
    pub fn new<'a>(
        keys: impl IntoIterator<Item = &'a str>,
        secrets: impl IntoIterator<Item = &'a str>,
        certificates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self {
            keys: normalize(keys),
            secrets: normalize(secrets),
            certificates: normalize(certificates),
            storage: Vec::new(),
        }
    }
}

/// One entry of `properties.accessPolicies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicyEntry {
    pub tenant_id: String,
    /// The principal's object ID.
    pub object_id: String,
    /// Set only for compound identities ("an application on behalf of a user").
    pub application_id: Option<String>,
    pub permissions: Permissions,
}

impl AccessPolicyEntry {
    /// The entry a grant on an access-policy vault asks for, for the principal `object_id`.
    pub fn from_grant(grant: &Grant, tenant_id: &str, object_id: &str) -> Self {
        let list = |permissions: &Option<crate::plan::model::Spanned<Vec<String>>>| {
            permissions
                .as_ref()
                .map(|spanned| spanned.value.clone())
                .unwrap_or_default()
        };
        let (keys, secrets, certificates) = (
            list(&grant.key_permissions),
            list(&grant.secret_permissions),
            list(&grant.certificate_permissions),
        );
        Self {
            tenant_id: tenant_id.to_owned(),
            object_id: object_id.to_owned(),
            application_id: None,
            permissions: Permissions::new(
                keys.iter().map(String::as_str),
                secrets.iter().map(String::as_str),
                certificates.iter().map(String::as_str),
            ),
        }
    }

    pub fn from_document(value: &Value) -> Option<Self> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let list = |key: &str| -> Vec<String> {
            normalize(
                value
                    .pointer(&format!("/permissions/{key}"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            )
        };
        Some(Self {
            tenant_id: text("tenantId")?,
            object_id: text("objectId")?,
            application_id: text("applicationId"),
            permissions: Permissions {
                keys: list("keys"),
                secrets: list("secrets"),
                certificates: list("certificates"),
                storage: list("storage"),
            },
        })
    }

    pub fn to_document(&self) -> Value {
        let mut permissions = json!({
            "keys": self.permissions.keys,
            "secrets": self.permissions.secrets,
            "certificates": self.permissions.certificates,
        });
        if !self.permissions.storage.is_empty() {
            permissions["storage"] = json!(self.permissions.storage);
        }
        let mut entry = json!({
            "tenantId": self.tenant_id,
            "objectId": self.object_id,
            "permissions": permissions,
        });
        if let Some(application_id) = &self.application_id {
            entry["applicationId"] = json!(application_id);
        }
        entry
    }

    /// Whether `other` is the entry of the same principal (IDs compare case-insensitively).
    pub fn same_principal(&self, other: &AccessPolicyEntry) -> bool {
        let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        same(&self.tenant_id, &other.tenant_id)
            && same(&self.object_id, &other.object_id)
            && match (&self.application_id, &other.application_id) {
                (None, None) => true,
                (Some(a), Some(b)) => same(a, b),
                _ => false,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_compare_regardless_of_case_order_and_repeats() {
        let a = Permissions::new([], ["Get", "list", "get"], []);
        let b = Permissions::new([], ["list", "get"], []);
        assert_eq!(a, b);
        assert_eq!(a.secrets, ["get", "list"]);
    }

    #[test]
    fn entries_round_trip_through_the_arm_shape() {
        let entry = AccessPolicyEntry {
            tenant_id: "t".into(),
            object_id: "o".into(),
            application_id: None,
            permissions: Permissions::new([], ["get"], []),
        };
        let document = entry.to_document();
        assert_eq!(
            document,
            json!({"tenantId": "t", "objectId": "o", "permissions": {"keys": [], "secrets": ["get"], "certificates": []}})
        );
        assert_eq!(AccessPolicyEntry::from_document(&document), Some(entry));
    }

    #[test]
    fn the_same_principal_is_matched_case_insensitively() {
        let entry = |object: &str| AccessPolicyEntry {
            tenant_id: "T".into(),
            object_id: object.into(),
            application_id: None,
            permissions: Permissions::default(),
        };
        assert!(entry("ABC").same_principal(&entry("abc")));
        assert!(!entry("abc").same_principal(&entry("abd")));
    }
}
