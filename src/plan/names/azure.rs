//! Azure naming rules: Key Vaults and their objects, AKS clusters, resource groups, locations,
//! GUIDs and tags.
//!
//! Each rule is what ARM enforces (or, where noted, the documented naming guidance); a value
//! that passes here may still be refused for reasons only Azure knows, such as a taken name.

use crate::plan::names::rule::{Invalid, Rule, first_disallowed, length_outside};

pub const KEY_VAULT: Rule = Rule {
    what: "Key Vault name",
    check: key_vault,
};
pub const KEY_VAULT_OBJECT: Rule = Rule {
    what: "Key Vault object name",
    check: key_vault_object,
};
pub const OBJECT_VERSION: Rule = Rule {
    what: "Key Vault object version",
    check: object_version,
};
pub const AKS_CLUSTER: Rule = Rule {
    what: "AKS cluster name",
    check: aks_cluster,
};
pub const MANAGED_IDENTITY: Rule = Rule {
    what: "managed identity name",
    check: managed_identity,
};
pub const FEDERATED_CREDENTIAL: Rule = Rule {
    what: "federated credential name",
    check: federated_credential,
};
pub const RESOURCE_GROUP: Rule = Rule {
    what: "resource group name",
    check: resource_group,
};
pub const LOCATION: Rule = Rule {
    what: "Azure location",
    check: location,
};
pub const GUID: Rule = Rule {
    what: "GUID",
    check: guid,
};
pub const TAG_NAME: Rule = Rule {
    what: "tag name",
    check: tag_name,
};
pub const TAG_VALUE: Rule = Rule {
    what: "tag value",
    check: tag_value,
};
/// 3–24 characters of `[a-zA-Z0-9-]`, starting with a letter, ending with a letter or digit,
/// no `--`. The charset and length are ARM's pattern; the rest is the documented naming rule.
pub fn key_vault(name: &str) -> Result<(), Invalid> {
    const HINT: &str = "Key Vault names are 3-24 letters, digits and `-`, start with a letter, \
                        end with a letter or digit, have no `--`, and are globally unique";
    let reason = first_disallowed(name, |c| c.is_ascii_alphanumeric() || c == '-')
        .or_else(|| length_outside(name, 3, 24))
        .or_else(|| {
            (!name.starts_with(|c: char| c.is_ascii_alphabetic()))
                .then(|| "starts with a digit or `-`".to_owned())
        })
        .or_else(|| name.ends_with('-').then(|| "ends with `-`".to_owned()))
        .or_else(|| name.contains("--").then(|| "contains `--`".to_owned()));
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// Secret, key and certificate names: 1–127 characters of `[0-9a-zA-Z-]`.
pub fn key_vault_object(name: &str) -> Result<(), Invalid> {
    let reason = first_disallowed(name, |c| c.is_ascii_alphanumeric() || c == '-')
        .or_else(|| length_outside(name, 1, 127));
    let hint = if name.contains('_') {
        "Key Vault object names cannot contain `_`; to mount the object under another file name, \
         set `alias`"
    } else {
        "Key Vault object names are 1-127 letters, digits and `-`"
    };
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, hint)))
}

/// An object version is 32 hexadecimal digits, as Key Vault prints it in the object's ID.
pub fn object_version(version: &str) -> Result<(), Invalid> {
    let reason = first_disallowed(version, |c| c.is_ascii_hexdigit()).or_else(|| {
        (version.chars().count() != 32).then(|| "is not 32 characters long".to_owned())
    });
    reason.map_or(Ok(()), |reason| {
        Err(Invalid::new(
            reason,
            "an object version is the 32 hexadecimal digits at the end of its ID; omit `version` \
             to mount the latest",
        ))
    })
}

/// 1–63 characters: `^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$`.
pub fn aks_cluster(name: &str) -> Result<(), Invalid> {
    const HINT: &str = "AKS cluster names are 1-63 letters, digits, `-` and `_`, and start and \
                        end with a letter or digit";
    let reason = first_disallowed(name, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .or_else(|| length_outside(name, 1, 63))
        .or_else(|| edge_not_alphanumeric(name));
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// 3–128 letters, digits, `-` and `_`, starting with a letter or digit: the
/// Microsoft.ManagedIdentity resource provider's rule.
pub fn managed_identity(name: &str) -> Result<(), Invalid> {
    const HINT: &str = "managed identity names are 3-128 letters, digits, `-` and `_`, \
                        starting with a letter or digit";
    let reason = first_disallowed(name, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .or_else(|| length_outside(name, 3, 128))
        .or_else(|| {
            (!name.starts_with(|c: char| c.is_ascii_alphanumeric()))
                .then(|| "starts with `-` or `_`".to_owned())
        });
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// `^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$`, the federatedIdentityCredentials name pattern of the
/// Microsoft.ManagedIdentity specification.
pub fn federated_credential(name: &str) -> Result<(), Invalid> {
    const HINT: &str = "federated credential names are 3-120 letters, digits, `-` and `_`, \
                        starting with a letter or digit; set `name` when the table key is not one";
    let reason = first_disallowed(name, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .or_else(|| length_outside(name, 3, 120))
        .or_else(|| {
            (!name.starts_with(|c: char| c.is_ascii_alphanumeric()))
                .then(|| "starts with `-` or `_`".to_owned())
        });
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// 1–90 characters of letters, digits, `_`, `-`, `.`, `(` and `)`, not ending in `.`.
/// ARM allows Unicode letters and digits here, so this does too.
pub fn resource_group(name: &str) -> Result<(), Invalid> {
    const HINT: &str = "resource group names are 1-90 letters, digits, `_`, `-`, `.`, `(` and \
                        `)`, and do not end with `.`";
    let reason = first_disallowed(name, |c| c.is_alphanumeric() || "_-.()".contains(c))
        .or_else(|| length_outside(name, 1, 90))
        .or_else(|| name.ends_with('.').then(|| "ends with `.`".to_owned()));
    reason.map_or(Ok(()), |reason| Err(Invalid::new(reason, HINT)))
}

/// A location's programmatic name, such as `westeurope` or `eastus2`: lowercase letters and
/// digits. The list of regions is not checked, because clouds gain regions; ARM will say.
pub fn location(name: &str) -> Result<(), Invalid> {
    let reason = length_outside(name, 1, 64)
        .or_else(|| first_disallowed(name, |c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    reason.map_or(Ok(()), |reason| {
        let programmatic: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let hint = if programmatic.is_empty() || programmatic == name {
            "use a location's programmatic name, such as `westeurope` (the Name column of `az \
             account list-locations -o table`)"
                .to_owned()
        } else {
            format!(
                "use the programmatic name `{programmatic}` (the Name column of `az account \
                 list-locations -o table`)"
            )
        };
        Err(Invalid::new(reason, hint))
    })
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal, as Entra ID and ARM print IDs.
pub fn guid(text: &str) -> Result<(), Invalid> {
    let shaped = text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if shaped {
        return Ok(());
    }
    let hint = if text.starts_with('{') && text.ends_with('}') {
        "remove the braces".to_owned()
    } else {
        "write it as 8-4-4-4-12 hexadecimal digits, such as \
         `3f2a1b4c-5d6e-4f70-8192-a3b4c5d6e7f8`"
            .to_owned()
    };
    Err(Invalid::new("is not a GUID", hint))
}

/// Tag names: 1–512 characters without `<`, `>`, `%`, `&`, `\`, `?` or `/`.
pub fn tag_name(name: &str) -> Result<(), Invalid> {
    let reason = length_outside(name, 1, 512)
        .or_else(|| first_disallowed(name, |c| !"<>%&\\?/".contains(c)));
    reason.map_or(Ok(()), |reason| {
        Err(Invalid::new(
            reason,
            "tag names are 1-512 characters without `<`, `>`, `%`, `&`, `\\`, `?` or `/`",
        ))
    })
}

/// Tag values: at most 256 characters.
pub fn tag_value(value: &str) -> Result<(), Invalid> {
    let len = value.chars().count();
    if len > 256 {
        return Err(Invalid::new(
            format!("is {len} characters long (at most 256)"),
            "tag values are at most 256 characters",
        ));
    }
    Ok(())
}

/// Names that must start and end with an ASCII letter or digit.
fn edge_not_alphanumeric(name: &str) -> Option<String> {
    let first = name.chars().next()?;
    let last = name.chars().next_back()?;
    if !first.is_ascii_alphanumeric() {
        Some(format!("starts with `{first}`"))
    } else if !last.is_ascii_alphanumeric() {
        Some(format!("ends with `{last}`"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::names::rule::assert_rule;

    #[test]
    fn key_vault_names() {
        assert_rule(
            &KEY_VAULT,
            &["kv1", "kv-vaultwire-demo", "A-b-C", &"a".repeat(24)],
            &[
                ("kv", "is 2 characters long (at least 3)"),
                (&"a".repeat(25), "is 25 characters long (at most 24)"),
                ("1kv", "starts with a digit or `-`"),
                ("-kv", "starts with a digit or `-`"),
                ("kv-", "ends with `-`"),
                ("kv--a", "contains `--`"),
                ("kv_a", "contains `_`"),
                ("kv a", "contains a space"),
                ("kvé", "contains `é`"),
                ("", "is empty"),
            ],
        );
    }

    #[test]
    fn key_vault_object_names() {
        assert_rule(
            &KEY_VAULT_OBJECT,
            &["db-password", "A1", &"x".repeat(127)],
            &[
                ("db_password", "contains `_`"),
                ("", "is empty"),
                (&"x".repeat(128), "is 128 characters long (at most 127)"),
            ],
        );
        assert!(
            KEY_VAULT_OBJECT
                .check("a_b")
                .unwrap_err()
                .hint
                .contains("alias")
        );
    }

    #[test]
    fn object_versions() {
        assert_rule(
            &OBJECT_VERSION,
            &["0123456789abcdef0123456789ABCDEF"],
            &[
                ("latest", "contains `l`"),
                ("abc", "is not 32 characters long"),
            ],
        );
    }

    #[test]
    fn managed_identity_and_federated_credential_names() {
        assert_rule(
            &MANAGED_IDENTITY,
            &["id-payments", "id_1", "abc", &"a".repeat(128)],
            &[
                ("ab", "is 2 characters long (at least 3)"),
                ("-id", "starts with `-` or `_`"),
                ("id.payments", "contains `.`"),
                (&"a".repeat(129), "is 129 characters long (at most 128)"),
            ],
        );
        assert_rule(
            &FEDERATED_CREDENTIAL,
            &["payments-api", "fic_1", "abc", &"a".repeat(120)],
            &[
                ("ab", "is 2 characters long (at least 3)"),
                ("_fic", "starts with `-` or `_`"),
                ("fic.1", "contains `.`"),
                (&"a".repeat(121), "is 121 characters long (at most 120)"),
            ],
        );
    }

    #[test]
    fn aks_cluster_names() {
        assert_rule(
            &AKS_CLUSTER,
            &["a", "aks-demo", "aks_demo_1", &"a".repeat(63)],
            &[
                ("", "is empty"),
                ("-aks", "starts with `-`"),
                ("aks_", "ends with `_`"),
                ("aks.demo", "contains `.`"),
                (&"a".repeat(64), "is 64 characters long (at most 63)"),
            ],
        );
    }

    #[test]
    fn resource_group_names() {
        assert_rule(
            &RESOURCE_GROUP,
            &[
                "rg-demo",
                "MC_rg-demo_aks-demo_westeurope",
                "rg.(prod)",
                "rgé",
            ],
            &[
                ("rg.", "ends with `.`"),
                ("rg demo", "contains a space"),
                ("rg/x", "contains `/`"),
                (&"r".repeat(91), "is 91 characters long (at most 90)"),
            ],
        );
    }

    #[test]
    fn locations_are_programmatic_names() {
        assert_rule(
            &LOCATION,
            &["westeurope", "eastus2", "usgovvirginia"],
            &[
                ("West Europe", "contains `W`"),
                ("", "is empty"),
                ("west-europe", "contains `-`"),
            ],
        );
        assert!(
            LOCATION
                .check("West Europe")
                .unwrap_err()
                .hint
                .contains("`westeurope`")
        );
        assert!(
            LOCATION
                .check("East US 2")
                .unwrap_err()
                .hint
                .contains("`eastus2`")
        );
    }

    #[test]
    fn guids() {
        assert_rule(
            &GUID,
            &[
                "7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c",
                "7C1E5A3B-2D4F-4E6A-8B9C-0D1E2F3A4B5C",
            ],
            &[
                ("7c1e5a3b2d4f4e6a8b9c0d1e2f3a4b5c", "is not a GUID"),
                ("7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5g", "is not a GUID"),
                ("{7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c}", "is not a GUID"),
                ("", "is not a GUID"),
            ],
        );
        assert_eq!(GUID.check("{x}").unwrap_err().hint, "remove the braces");
    }

    #[test]
    fn tags() {
        assert_rule(
            &TAG_NAME,
            &["env", "cost center"],
            &[("a/b", "contains `/`"), ("", "is empty")],
        );
        assert_rule(
            &TAG_VALUE,
            &["", "prod"],
            &[(&"v".repeat(257), "is 257 characters long (at most 256)")],
        );
    }
}
