//! The plan entries of a migration as TOML, appended to the plan file's text.
//!
//! Appending leaves every existing byte — comments, order, alignment — as it was: the edit a
//! reviewer sees in the pull request is the new tables and nothing else. The entries are
//! written in the style of the example plans (inline arrays of inline tables).

use std::fmt::Write as _;

use super::model::{Encoding, IdentityRef, Migration, NewGrant, SecretMove};

/// A TOML basic string. JSON's escapes are all valid TOML escapes.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

fn identity(identity: &IdentityRef) -> String {
    match identity {
        IdentityRef::Addon(key) => format!("{{ addon = {} }}", quote(key)),
        IdentityRef::Identity(key) => format!("{{ identity = {} }}", quote(key)),
        IdentityRef::ClientId(id) => format!("{{ workload_identity_client_id = {} }}", quote(id)),
    }
}

fn spc_table(moved: &SecretMove) -> String {
    let spc = &moved.spc;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Moved off Secret {}/{} of cluster {} by `vaultwire migrate`.",
        moved.namespace, moved.secret, moved.cluster
    );
    let _ = writeln!(out, "[spc.{}]", spc.key);
    let _ = writeln!(out, "addon = {}", quote(&spc.addon));
    let _ = writeln!(out, "namespace = {}", quote(&spc.namespace));
    let _ = writeln!(out, "name = {}", quote(&spc.name));
    let _ = writeln!(out, "vault = {}", quote(&spc.vault));
    let _ = writeln!(out, "identity = {}", identity(&spc.identity));
    let _ = writeln!(out, "restore_on_destroy = true");
    let _ = writeln!(out, "objects = [");
    for object in &spc.objects {
        let encoding = match object.encoding {
            Encoding::Base64 => ", encoding = \"base64\"",
            Encoding::Utf8 => "",
        };
        let _ = writeln!(
            out,
            "  {{ name = {}, type = \"secret\", alias = {}{encoding} }},",
            quote(&object.name),
            quote(&object.alias)
        );
    }
    let _ = writeln!(out, "]");
    if let Some(sync) = &spc.sync {
        let labels = if sync.labels.is_empty() {
            String::new()
        } else {
            let pairs: Vec<String> = sync
                .labels
                .iter()
                .map(|(key, value)| format!("{} = {}", quote(key), quote(value)))
                .collect();
            format!(", labels = {{ {} }}", pairs.join(", "))
        };
        let _ = writeln!(out, "sync = [");
        let _ = writeln!(
            out,
            "  {{ secret_name = {}, type = {}{labels}, data = [",
            quote(&sync.secret_name),
            quote(&sync.secret_type)
        );
        for key in &sync.keys {
            let _ = writeln!(
                out,
                "    {{ object = {}, key = {} }},",
                quote(key),
                quote(key)
            );
        }
        let _ = writeln!(out, "  ] }},");
        let _ = writeln!(out, "]");
    }
    out
}

fn grant_table(grant: &NewGrant) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Lets the migrated SecretProviderClasses read vault.{}; added by `vaultwire migrate`.",
        grant.vault
    );
    let _ = writeln!(out, "[grant.{}]", grant.key);
    let _ = writeln!(out, "vault = {}", quote(&grant.vault));
    let _ = writeln!(out, "principal = {}", identity(&grant.principal));
    match &grant.role {
        Some(role) => {
            let _ = writeln!(out, "role = {}", quote(role));
        }
        None => {
            let _ = writeln!(out, "secret_permissions = [\"get\"]");
        }
    }
    out
}

/// The TOML of the migration's new tables; empty when it adds none.
pub fn entries(migration: &Migration) -> String {
    let tables: Vec<String> = migration
        .grants
        .iter()
        .map(grant_table)
        .chain(migration.moves.iter().map(spc_table))
        .collect();
    tables.join("\n")
}

/// `plan` with `entries` appended after one blank line; `plan` itself is kept byte for byte.
pub fn append(plan: &str, entries: &str) -> String {
    if entries.is_empty() {
        return plan.to_owned();
    }
    let mut out = plan.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(entries);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appending_keeps_the_plan_byte_for_byte_and_adds_one_blank_line() {
        let plan = "# a comment\nversion = 1   # aligned\n";
        let out = append(plan, "[spc.x]\n");
        assert!(out.starts_with(plan));
        assert_eq!(&out[plan.len()..], "\n[spc.x]\n");
        assert_eq!(append("version = 1", "[a]\n"), "version = 1\n\n[a]\n");
        assert_eq!(append(plan, ""), plan);
    }

    #[test]
    fn strings_are_quoted_so_that_odd_keys_stay_keys() {
        assert_eq!(quote("tls.crt"), "\"tls.crt\"");
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }
}
