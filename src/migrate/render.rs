//! A migration for review: human (terminal), JSON (machines), Markdown (pull requests).
//! Names, types, sizes and key mappings; never a value (the model holds none).

use std::fmt::Write as _;

use super::compute::size;
use super::model::{IdentityRef, LeftAlone, Migration, SecretMove, WorkloadPatch};

/// The schema version of the JSON form.
pub const JSON_FORMAT_VERSION: &str = "1";

fn identity(identity: &IdentityRef) -> String {
    match identity {
        IdentityRef::Addon(key) => format!("the add-on identity of addon.{key}"),
        IdentityRef::Identity(key) => format!("identity.{key}"),
        IdentityRef::ClientId(id) => format!("workload identity {id}"),
    }
}

fn secret_line(moved: &SecretMove) -> String {
    let keys = moved.keys.len();
    format!(
        "Secret {}/{} ({}, {keys} key{}) → vault.{} ({})",
        moved.namespace,
        moved.secret,
        moved.secret_type,
        if keys == 1 { "" } else { "s" },
        moved.vault,
        moved.vault_name
    )
}

fn class_line(moved: &SecretMove) -> String {
    let spc = &moved.spc;
    let sync = spc.sync.as_ref().map_or(String::new(), |sync| {
        format!(
            ", recreates Secret {} ({})",
            sync.secret_name, sync.secret_type
        )
    });
    format!(
        "spc.{}: SecretProviderClass {}/{} as {}{sync}",
        spc.key,
        spc.namespace,
        spc.name,
        identity(&spc.identity)
    )
}

fn workload_title(patch: &WorkloadPatch) -> String {
    format!("{} {}/{}", patch.kind, patch.namespace, patch.name)
}

fn left_alone_line(left: &LeftAlone) -> String {
    format!("Secret {}/{}: {}", left.namespace, left.secret, left.detail)
}

/// The one-line summary that ends every form.
pub fn summary(migration: &Migration) -> String {
    let keys: usize = migration.moves.iter().map(|m| m.keys.len()).sum();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "Migration: {} ({}) to move, {} and {} to add, {}; {} left alone.",
        plural(migration.moves.len(), "Secret", "Secrets"),
        plural(keys, "key", "keys"),
        plural(
            migration.moves.iter().filter(|m| !m.spc.in_plan).count(),
            "SecretProviderClass",
            "SecretProviderClasses"
        ),
        plural(migration.grants.len(), "grant", "grants"),
        plural(
            migration.workloads.len(),
            "workload patch",
            "workload patches"
        ),
        plural(migration.left_alone.len(), "Secret", "Secrets"),
    )
}

/// The terminal form.
pub fn human(migration: &Migration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "vaultwire will move these Secrets into Key Vault (--as {}):",
        migration.mode.as_str()
    );
    let mut cluster = "";
    for moved in &migration.moves {
        if moved.cluster != cluster {
            cluster = &moved.cluster;
            let _ = writeln!(out, "\n  cluster {} (addon.{})", moved.cluster, moved.addon);
        }
        let _ = writeln!(out, "\n  + {}", secret_line(moved));
        let width = moved.keys.iter().map(|k| k.key.len()).max().unwrap_or(0);
        for key in &moved.keys {
            let _ = writeln!(
                out,
                "      {:<width$}  → {}  ({}, {})",
                key.key,
                key.vault_secret,
                size(key.stored_bytes),
                key.encoding.as_str()
            );
        }
        if moved.spc.in_plan {
            let _ = writeln!(out, "    = {} (in the plan)", class_line(moved));
        } else {
            let _ = writeln!(out, "    + {}", class_line(moved));
        }
        let _ = writeln!(out, "      read by {}", moved.workloads.join(", "));
    }
    if !migration.grants.is_empty() {
        let _ = writeln!(out, "\n  grants the new classes need:");
        for grant in &migration.grants {
            let role = grant.role.as_deref().unwrap_or("access policy: get");
            let _ = writeln!(
                out,
                "    + grant.{}: {} may read vault.{} ({role})",
                grant.key,
                identity(&grant.principal),
                grant.vault
            );
        }
    }
    if !migration.workloads.is_empty() {
        let _ = writeln!(out, "\n  workload patches (for their owners' manifests):");
        for patch in &migration.workloads {
            let _ = writeln!(out, "    ~ {}  → {}", workload_title(patch), patch.file);
            for change in &patch.changes {
                let _ = writeln!(out, "        {change}");
            }
            for change in &patch.owner_changes {
                let _ = writeln!(out, "        ! owner: {change}");
            }
            if let Some(caveat) = &patch.caveat {
                let _ = writeln!(out, "        ! {caveat}");
            }
        }
    }
    if !migration.left_alone.is_empty() {
        let _ = writeln!(out, "\n  left alone:");
        for left in &migration.left_alone {
            let _ = writeln!(out, "    - {}", left_alone_line(left));
        }
    }
    let _ = writeln!(out, "\n{}", summary(migration));
    out
}

/// The machine form.
pub fn json(migration: &Migration) -> String {
    let value = serde_json::json!({
        "format_version": JSON_FORMAT_VERSION,
        "migration": migration,
        "summary": summary(migration),
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The pull-request form.
pub fn markdown(migration: &Migration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### vaultwire migrate (--as {})\n\n{}\n",
        migration.mode.as_str(),
        summary(migration)
    );
    if !migration.moves.is_empty() {
        let _ = writeln!(
            out,
            "| cluster | Secret | key | Key Vault secret | size | encoding |\n|---|---|---|---|---|---|"
        );
        for moved in &migration.moves {
            for key in &moved.keys {
                let _ = writeln!(
                    out,
                    "| {} | `{}/{}` | `{}` | `{}` | {} | {} |",
                    cell(&moved.cluster),
                    moved.namespace,
                    moved.secret,
                    cell(&key.key),
                    key.vault_secret,
                    size(key.stored_bytes),
                    key.encoding.as_str()
                );
            }
        }
        let _ = writeln!(out);
        for moved in &migration.moves {
            let sign = if moved.spc.in_plan { "=" } else { "+" };
            let _ = writeln!(out, "- `{sign}` {}", cell(&class_line(moved)));
        }
        for grant in &migration.grants {
            let _ = writeln!(
                out,
                "- `+` grant.{}: {} may read vault.{}",
                grant.key,
                identity(&grant.principal),
                grant.vault
            );
        }
        let _ = writeln!(out);
    }
    if !migration.workloads.is_empty() {
        let _ = writeln!(out, "**Workload patches**\n");
        for patch in &migration.workloads {
            let _ = writeln!(out, "- `~` {} → `{}`", workload_title(patch), patch.file);
            for change in patch.changes.iter().chain(&patch.owner_changes) {
                let _ = writeln!(out, "  - {}", cell(change));
            }
            if let Some(caveat) = &patch.caveat {
                let _ = writeln!(out, "  - ⚠ {}", cell(caveat));
            }
        }
        let _ = writeln!(out);
    }
    if !migration.left_alone.is_empty() {
        let _ = writeln!(out, "**Left alone**\n");
        for left in &migration.left_alone {
            let _ = writeln!(out, "- {}", cell(&left_alone_line(left)));
        }
    }
    out
}
