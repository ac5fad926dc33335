//! References between resources: every `vault`, `addon`, `identity` and `depends_on` must name a table
//! of the plan file, and a SecretProviderClass may only use the add-on identity of its own
//! cluster.

use std::collections::BTreeSet;

use crate::plan::address::{Address, ResourceKind};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Plan, Principal, Spanned, SpcIdentity};
use crate::plan::suggest::{all_of, closest, shown};

/// Reports references to resources the plan file does not define.
pub(super) fn unknown_references(
    plan: &Plan,
    defined: &BTreeSet<Address>,
    out: &mut Vec<Diagnostic>,
) {
    let mut check = |kind: ResourceKind, key: &Spanned<String>, from: &str| {
        if !defined.contains(&Address::new(kind, key.value.clone())) {
            out.push(unknown(kind, key, from, defined));
        }
    };
    for (grant_key, grant) in &plan.grants {
        let from = format!("grant.{grant_key}");
        check(ResourceKind::Vault, &grant.vault, &from);
        match &grant.principal.value {
            Principal::Addon(addon) => check(ResourceKind::Addon, addon, &from),
            Principal::Identity(identity) => check(ResourceKind::Identity, identity, &from),
            Principal::WorkloadIdentity { .. } | Principal::Object { .. } => {}
        }
    }
    for (key, federation) in &plan.federations {
        let from = format!("federation.{key}");
        check(ResourceKind::Identity, &federation.identity, &from);
        check(ResourceKind::Addon, &federation.addon, &from);
    }
    for (spc_key, spc) in &plan.spcs {
        let from = format!("spc.{spc_key}");
        check(ResourceKind::Addon, &spc.addon, &from);
        check(ResourceKind::Vault, &spc.vault, &from);
        // An identity naming another add-on is reported by `foreign_addon_identities`;
        // only a dangling one is reported here.
        match &spc.identity.value {
            SpcIdentity::Addon(addon) if addon.value != spc.addon.value => {
                check(ResourceKind::Addon, addon, &from);
            }
            SpcIdentity::Identity(identity) => check(ResourceKind::Identity, identity, &from),
            _ => {}
        }
    }
}

fn unknown(
    kind: ResourceKind,
    key: &Spanned<String>,
    from: &str,
    defined: &BTreeSet<Address>,
) -> Diagnostic {
    let known: Vec<&str> = defined
        .iter()
        .filter(|address| address.kind == kind)
        .map(|address| address.key.as_str())
        .collect();
    let help = match closest(&key.value, known.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None if known.is_empty() => format!(
            "this plan file defines no {kind}; add the table `[{kind}.{}]`",
            shown(&key.value)
        ),
        None => format!(
            "the {kind} keys in this file are {}",
            all_of(known.iter().copied())
        ),
    };
    Diagnostic::error(
        "unknown-reference",
        format!("`{from}` refers to unknown {kind} `{}`", shown(&key.value)),
        key.span.clone(),
    )
    .with_label(format!("no `[{kind}.{}]` in this file", shown(&key.value)))
    .with_help(help)
}

/// Reports `depends_on` entries naming addresses the plan file does not define.
pub(super) fn unknown_dependencies(
    plan: &Plan,
    defined: &BTreeSet<Address>,
    out: &mut Vec<Diagnostic>,
) {
    for (from, depends_on) in super::all::depends_on_lists(plan) {
        for dependency in depends_on {
            if defined.contains(&dependency.value) {
                continue;
            }
            let text = dependency.value.to_string();
            let known: Vec<String> = defined.iter().map(ToString::to_string).collect();
            let help = match closest(&text, known.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "`depends_on` lists addresses of tables in this file, such as \
                         `vault.payments`"
                    .to_owned(),
            };
            out.push(
                Diagnostic::error(
                    "unknown-dependency",
                    format!(
                        "`{from}` depends on `{}`, which this file does not define",
                        shown(&text)
                    ),
                    dependency.span.clone(),
                )
                .with_label("no such resource")
                .with_help(help),
            );
        }
    }
}

/// An SPC can only use the add-on identity of the cluster it is in: that identity is assigned
/// to that cluster's nodes alone.
pub(super) fn foreign_addon_identities(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (key, spc) in &plan.spcs {
        let SpcIdentity::Addon(identity) = &spc.identity.value else {
            continue;
        };
        if identity.value == spc.addon.value {
            continue;
        }
        out.push(
            Diagnostic::error(
                "foreign-addon-identity",
                format!(
                    "`spc.{key}` uses the identity of add-on `{}` but lives in the cluster of \
                     add-on `{}`",
                    shown(&identity.value),
                    shown(&spc.addon.value)
                ),
                identity.span.clone(),
            )
            .with_label("identity of another cluster")
            .with_related(spc.addon.span.clone(), "cluster chosen here")
            .with_help(format!(
                "the add-on identity of one cluster cannot be used from another: write \
                 `identity = {{ addon = \"{}\" }}`, or use a workload identity",
                shown(&spc.addon.value)
            )),
        );
    }
}
