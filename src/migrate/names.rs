//! Key Vault names for the keys of Kubernetes Secrets: deterministic, collision-free, shown to
//! the user before anything is written.
//!
//! A Key Vault secret name is 1–127 of `[0-9a-zA-Z-]` and case-insensitive; a Secret key is
//! `[-._a-zA-Z0-9]+` and case-sensitive, a Secret name a DNS subdomain. The name is
//! `NAMESPACE--SECRET--KEY` (prefixed `ADDON--` when the plan has several clusters), each
//! part with every other character replaced by `-`. Names that still collide — `db_password`
//! and `db.password`, `Token` and `token` — each get a suffix from a hash of where the value
//! came from, and so does a name cut to fit 127 characters.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// Key Vault's longest secret name.
pub const MAX_NAME: usize = 127;

/// Where one value comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    /// The plan's `[addon]` key, when the plan has several.
    pub addon: Option<String>,
    pub namespace: String,
    pub secret: String,
    pub key: String,
}

impl Origin {
    fn readable(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(addon) = &self.addon {
            parts.push(addon);
        }
        parts.extend([
            self.namespace.as_str(),
            self.secret.as_str(),
            self.key.as_str(),
        ]);
        parts
            .iter()
            .map(|part| sanitize(part))
            .collect::<Vec<_>>()
            .join("--")
    }

    fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.addon.as_deref().unwrap_or(""),
            &self.namespace,
            &self.secret,
            &self.key,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.finalize()[..4]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// Eight hex digits of the SHA-256 of `text`: a stable suffix that tells names apart.
pub fn short_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The Key Vault name of every origin. Pure and deterministic: the same origins always get
/// the same names, and no two get names that are equal ignoring case.
pub fn vault_names(origins: &[Origin]) -> BTreeMap<Origin, String> {
    let mut by_name: BTreeMap<String, Vec<&Origin>> = BTreeMap::new();
    for origin in origins {
        by_name
            .entry(origin.readable().to_ascii_lowercase())
            .or_default()
            .push(origin);
    }
    let mut names = BTreeMap::new();
    for group in by_name.values() {
        for origin in group {
            let readable = origin.readable();
            let name = if group.len() > 1 || readable.len() > MAX_NAME {
                let suffix = format!("-{}", origin.digest());
                let mut cut = readable;
                cut.truncate(MAX_NAME - suffix.len());
                format!("{cut}{suffix}")
            } else {
                readable
            };
            names.insert((*origin).clone(), name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(namespace: &str, secret: &str, key: &str) -> Origin {
        Origin {
            addon: None,
            namespace: namespace.to_owned(),
            secret: secret.to_owned(),
            key: key.to_owned(),
        }
    }

    fn is_vault_name(name: &str) -> bool {
        (1..=MAX_NAME).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    }

    #[test]
    fn plain_keys_read_as_namespace_secret_and_key() {
        let origins = [
            origin("payments", "payments-db-legacy", "password"),
            origin("shop", "tls.web", "tls.crt"),
        ];
        let names = vault_names(&origins);
        assert_eq!(names[&origins[0]], "payments--payments-db-legacy--password");
        assert_eq!(names[&origins[1]], "shop--tls-web--tls-crt");
    }

    #[test]
    fn keys_that_would_collide_each_get_a_stable_suffix() {
        let origins = [
            origin("a", "s", "db_password"),
            origin("a", "s", "db.password"),
            origin("a", "s", "Token"),
            origin("a", "s", "token"),
        ];
        let names = vault_names(&origins);
        let mut lower: Vec<String> = names.values().map(|n| n.to_ascii_lowercase()).collect();
        lower.sort();
        lower.dedup();
        assert_eq!(lower.len(), 4, "{names:?}");
        assert!(names[&origins[0]].starts_with("a--s--db-password-"));
        assert!(names.values().all(|name| is_vault_name(name)));
        // The same input always maps the same way, whatever the order.
        let mut reversed = origins.to_vec();
        reversed.reverse();
        assert_eq!(vault_names(&reversed), names);
    }

    #[test]
    fn long_names_are_cut_to_fit_with_a_suffix() {
        let long = "k".repeat(200);
        let origins = [
            origin("ns", "secret", &long),
            origin("ns", "secret", &format!("{long}x")),
        ];
        let names = vault_names(&origins);
        assert!(names.values().all(|name| is_vault_name(name)), "{names:?}");
        assert_ne!(names[&origins[0]], names[&origins[1]]);
    }

    #[test]
    fn the_cluster_is_part_of_the_name_when_the_plan_has_several() {
        let mut one = origin("ns", "s", "k");
        one.addon = Some("east".to_owned());
        assert_eq!(vault_names(&[one.clone()])[&one], "east--ns--s--k");
    }
}
