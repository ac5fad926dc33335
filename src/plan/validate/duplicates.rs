//! Two tables that would manage the same thing: one Key Vault, one cluster's add-on, one
//! SecretProviderClass, one synced Secret, or one mounted file.
//!
//! "First" is the earlier in the file, so the related label points up the page.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::address::Address;

use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Plan, Span, Spanned};
use crate::plan::suggest::shown;

/// Remembers the first occurrence of each identity and reports the later ones.
struct Seen<K: Ord> {
    first: BTreeMap<K, Span>,
}

impl<K: Ord> Seen<K> {
    fn new() -> Self {
        Self {
            first: BTreeMap::new(),
        }
    }

    /// The span of the first occurrence when `identity` was seen before.
    fn repeat(&mut self, identity: K, span: &Span) -> Option<Span> {
        match self.first.get(&identity) {
            Some(first) => Some(first.clone()),
            None => {
                self.first.insert(identity, span.clone());
                None
            }
        }
    }
}

fn duplicate(
    code: &'static str,
    message: String,
    second: Span,
    first: Span,
    help: &str,
) -> Diagnostic {
    Diagnostic::error(code, message, second)
        .with_label("used again here")
        .with_related(first, "first used here")
        .with_help(help.to_owned())
}

/// Sorts values by where they appear in the file.
fn in_file_order<'a, T>(items: impl IntoIterator<Item = (&'a Span, T)>) -> Vec<(&'a Span, T)> {
    let mut items: Vec<_> = items.into_iter().collect();
    items.sort_by_key(|(span, _)| (span.start, span.end));
    items
}

/// Key Vault names are global, and compared case-insensitively by Azure.
pub(super) fn vault_names(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut seen = Seen::new();
    for (span, name) in in_file_order(plan.vaults.values().map(|v| (&v.name.span, &v.name))) {
        if let Some(first) = seen.repeat(name.value.to_ascii_lowercase(), span) {
            out.push(duplicate(
                "duplicate-vault-name",
                format!("Key Vault name `{}` is used twice", shown(&name.value)),
                span.clone(),
                first,
                "Key Vault names are globally unique (and case-insensitive): two tables cannot \
                 manage one vault",
            ));
        }
    }
}

/// One `[identity]` table per managed identity (resource group and name, case-insensitive).
pub(super) fn identity_names(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut seen = Seen::new();
    for (span, identity) in in_file_order(plan.identities.values().map(|i| (&i.name.span, i))) {
        let key = (
            identity.resource_group.value.to_ascii_lowercase(),
            identity.name.value.to_ascii_lowercase(),
        );
        if let Some(first) = seen.repeat(key, span) {
            out.push(duplicate(
                "duplicate-identity",
                format!(
                    "managed identity `{}` in resource group `{}` has two `[identity]` tables",
                    shown(&identity.name.value),
                    shown(&identity.resource_group.value)
                ),
                span.clone(),
                first,
                "two tables cannot manage one identity: keep one and refer to its key",
            ));
        }
    }
}

/// One `[addon]` table per cluster: two would fight over the same add-on profile.
pub(super) fn addon_clusters(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut seen = Seen::new();
    for (span, addon) in in_file_order(plan.addons.values().map(|a| (&a.cluster.span, a))) {
        let identity = (
            addon.cluster.value.to_ascii_lowercase(),
            addon.resource_group.value.to_ascii_lowercase(),
        );
        if let Some(first) = seen.repeat(identity, span) {
            out.push(duplicate(
                "duplicate-addon",
                format!(
                    "cluster `{}` in resource group `{}` has two `[addon]` tables",
                    shown(&addon.cluster.value),
                    shown(&addon.resource_group.value)
                ),
                span.clone(),
                first,
                "a cluster has one add-on: keep one `[addon]` table and point every \
                 SecretProviderClass at its key",
            ));
        }
    }
}

/// SecretProviderClasses are namespaced objects of one cluster (one add-on).
pub(super) fn spc_names(plan: &Plan, partial: &BTreeSet<Address>, out: &mut Vec<Diagnostic>) {
    let mut seen = Seen::new();
    // A partial SPC may carry its key as a stand-in for a `name` that did not decode.
    let complete = plan
        .spcs
        .iter()
        .filter(|(key, _)| !partial.contains(&Address::spc(key.as_str())))
        .map(|(_, spc)| (&spc.name.span, spc));
    for (span, spc) in in_file_order(complete) {
        let identity = (&spc.addon.value, &spc.namespace.value, &spc.name.value);
        if let Some(first) = seen.repeat(identity, span) {
            out.push(duplicate(
                "duplicate-spc",
                format!(
                    "SecretProviderClass `{}/{}` is defined twice in the cluster of `addon.{}`",
                    shown(&spc.namespace.value),
                    shown(&spc.name.value),
                    shown(&spc.addon.value)
                ),
                span.clone(),
                first,
                "give one of them another `name` or `namespace`",
            ));
        }
    }
}

/// Synced Secrets are namespaced too: two `sync` entries with one name overwrite each other.
pub(super) fn synced_secrets(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut seen = Seen::new();
    let entries = plan.spcs.values().flat_map(|spc| {
        spc.sync
            .iter()
            .map(move |secret| (&secret.secret_name.span, (spc, &secret.secret_name)))
    });
    for (span, (spc, name)) in in_file_order(entries) {
        let identity = (&spc.addon.value, &spc.namespace.value, &name.value);
        if let Some(first) = seen.repeat(identity, span) {
            out.push(duplicate(
                "duplicate-secret",
                format!(
                    "Secret `{}` in namespace `{}` is synced twice",
                    shown(&name.value),
                    shown(&spc.namespace.value)
                ),
                span.clone(),
                first,
                "each `sync` entry writes the whole Secret, so two would overwrite each other: \
                 give one another `secret_name`",
            ));
        }
    }
}

/// Each object of an SPC is written to one file in the volume, named by alias or name.
pub(super) fn file_names(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (key, spc) in &plan.spcs {
        let mut seen = Seen::new();
        for object in &spc.objects {
            let span = object
                .alias
                .as_ref()
                .map_or(&object.name.span, |alias: &Spanned<String>| &alias.span);
            if let Some(first) = seen.repeat(object.file_name().to_owned(), span) {
                out.push(duplicate(
                    "duplicate-file-name",
                    format!(
                        "two objects of `spc.{key}` are mounted as file `{}`",
                        shown(object.file_name())
                    ),
                    span.clone(),
                    first,
                    "set `alias` on one of them to mount it under another file name",
                ));
            }
        }
    }
}
