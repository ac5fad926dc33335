//! Managed identities and the service accounts they trust: Azure's limits on federated
//! credentials, the clusters' issuers, and that every SecretProviderClass reading as an
//! identity has a federation for its cluster.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::address::{Address, ResourceKind};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Federation, Plan, SpcIdentity};
use crate::plan::suggest::shown;

/// Azure refuses a 21st federated credential on one identity.
pub const MAX_CREDENTIALS_PER_IDENTITY: usize = 20;

/// The federations of each identity key, in file order.
fn by_identity(plan: &Plan) -> BTreeMap<&str, Vec<(&String, &Federation)>> {
    let mut grouped: BTreeMap<&str, Vec<(&String, &Federation)>> = BTreeMap::new();
    for (key, federation) in &plan.federations {
        grouped
            .entry(federation.identity.value.as_str())
            .or_default()
            .push((key, federation));
    }
    for federations in grouped.values_mut() {
        federations.sort_by_key(|(_, federation)| federation.key_span.start);
    }
    grouped
}

/// At most 20 credentials per identity; a credential name and an issuer+subject pair once
/// per identity.
pub(super) fn credentials_per_identity(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (identity, federations) in by_identity(plan) {
        let identity = shown(identity);
        if let Some((key, federation)) = federations.get(MAX_CREDENTIALS_PER_IDENTITY) {
            out.push(
                Diagnostic::error(
                    "too-many-federations",
                    format!(
                        "identity `{identity}` has {} federations; `federation.{key}` is the {}st",
                        federations.len(),
                        MAX_CREDENTIALS_PER_IDENTITY + 1
                    ),
                    federation.key_span.clone(),
                )
                .with_label(format!(
                    "at most {MAX_CREDENTIALS_PER_IDENTITY} per identity"
                ))
                .with_help(
                    "Azure allows 20 federated credentials per managed identity: split the \
                     service accounts over a second `[identity]`",
                ),
            );
        }
        let mut names: BTreeMap<String, &Federation> = BTreeMap::new();
        let mut subjects: BTreeMap<(&str, String), &Federation> = BTreeMap::new();
        for (key, federation) in &federations {
            if let Some(first) =
                names.insert(federation.name.value.to_ascii_lowercase(), federation)
            {
                out.push(
                    Diagnostic::error(
                        "duplicate-federation",
                        format!(
                            "identity `{identity}` has two federated credentials named `{}`",
                            shown(&federation.name.value)
                        ),
                        federation.name.span.clone(),
                    )
                    .with_label("used again here")
                    .with_related(first.name.span.clone(), "first used here")
                    .with_help(format!(
                        "credential names are unique under an identity: set `name` in \
                         `[federation.{key}]`"
                    )),
                );
            }
            if let Some(first) = subjects.insert(
                (federation.addon.value.as_str(), federation.subject()),
                federation,
            ) {
                out.push(
                    Diagnostic::error(
                        "duplicate-federation",
                        format!(
                            "identity `{identity}` trusts `{}` of add-on `{}` twice",
                            shown(&federation.subject()),
                            shown(&federation.addon.value)
                        ),
                        federation.key_span.clone(),
                    )
                    .with_label("the same issuer and subject again")
                    .with_related(first.key_span.clone(), "first trusted here")
                    .with_help(
                        "Azure allows an issuer and subject once per identity: remove one table",
                    ),
                );
            }
        }
    }
}

/// A federation's issuer is its cluster's: the add-on must make sure the cluster has one.
pub(super) fn issuers_enabled(plan: &Plan, out: &mut Vec<Diagnostic>) {
    let mut reported = BTreeSet::new();
    for (key, federation) in &plan.federations {
        let Some(addon) = plan.addons.get(&federation.addon.value) else {
            continue;
        };
        if addon.workload_identity.value || !reported.insert(&federation.addon.value) {
            continue;
        }
        let addon_key = shown(&federation.addon.value);
        out.push(
            Diagnostic::error(
                "no-issuer",
                format!(
                    "`federation.{key}` trusts the OIDC issuer of add-on `{addon_key}`, which \
                     does not set `workload_identity = true`"
                ),
                federation.addon.span.clone(),
            )
            .with_label("this cluster's issuer is not managed")
            .with_related(addon.key_span.clone(), "add-on defined here")
            .with_help(format!(
                "add `workload_identity = true` to `[addon.{addon_key}]`: vaultwire then turns \
                 on the cluster's OIDC issuer and workload identity, and reads the issuer URL \
                 from it"
            )),
        );
    }
}

/// A SecretProviderClass reading as an identity needs a federation with that identity on its
/// cluster: the provider exchanges the pod's service-account token, which only a federated
/// credential makes Entra accept.
pub(super) fn unfederated_classes(
    plan: &Plan,
    defined: &BTreeSet<Address>,
    out: &mut Vec<Diagnostic>,
) {
    // A federation with its own problems is not in the plan; it may be the missing one.
    let federations_defined = defined
        .iter()
        .filter(|address| address.kind == ResourceKind::Federation)
        .count();
    if federations_defined != plan.federations.len() {
        return;
    }
    for (key, spc) in &plan.spcs {
        let SpcIdentity::Identity(identity) = &spc.identity.value else {
            continue;
        };
        if !plan.identities.contains_key(&identity.value) {
            continue;
        }
        let federated = plan.federations.values().any(|federation| {
            federation.identity.value == identity.value && federation.addon.value == spc.addon.value
        });
        if federated {
            continue;
        }
        let (identity, addon) = (shown(&identity.value), shown(&spc.addon.value));
        let namespace = shown(&spc.namespace.value);
        out.push(
            Diagnostic::error(
                "unfederated-identity",
                format!(
                    "`spc.{key}` reads as identity `{identity}`, which trusts no service \
                     account of add-on `{addon}`'s cluster"
                ),
                spc.identity.span.clone(),
            )
            .with_label("no federation for this cluster")
            .with_help(format!(
                "add a `[federation.KEY]` with `identity = \"{identity}\"`, `addon = \
                 \"{addon}\"`, `namespace = \"{namespace}\"` and the `service_account` its pods \
                 run as; without one, every mount fails with AADSTS70021"
            )),
        );
    }
}

/// A federation whose namespace has no SecretProviderClass reading as its identity may be a
/// typo in the namespace (or serve an application that signs in by itself).
pub(super) fn unused_federations(plan: &Plan, out: &mut Vec<Diagnostic>) {
    for (key, federation) in &plan.federations {
        let used = plan.spcs.values().any(|spc| {
            matches!(&spc.identity.value, SpcIdentity::Identity(identity) if identity.value == federation.identity.value)
                && spc.addon.value == federation.addon.value
                && spc.namespace.value == federation.namespace.value
        });
        if used || !plan.identities.contains_key(&federation.identity.value) {
            continue;
        }
        out.push(
            Diagnostic::warning(
                "unused-federation",
                format!(
                    "no SecretProviderClass in namespace `{}` reads as identity `{}`",
                    shown(&federation.namespace.value),
                    shown(&federation.identity.value)
                ),
                federation.namespace.span.clone(),
            )
            .with_label(format!("`federation.{key}` trusts a service account here"))
            .with_help(
                "check the namespace; if an application signs in as the identity by itself, \
                 this warning can be ignored",
            ),
        );
    }
}
