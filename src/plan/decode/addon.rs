//! `[addon.KEY]`: the Key Vault secrets provider add-on of an existing AKS cluster.
//!
//! Defaults are AKS's: rotation off, polled every 2 minutes when on.

use crate::plan::decode::reader::{Completeness, Table};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::duration::GoDuration;
use crate::plan::model::{Addon, Spanned};
use crate::plan::names::azure::{AKS_CLUSTER, RESOURCE_GROUP};

pub(super) const KEYS: &[&str] = &[
    "cluster",
    "resource_group",
    "secret_rotation",
    "rotation_poll_interval",
    "kube_context",
    "workload_identity",
    "depends_on",
];
const DEFAULT_POLL_INTERVAL: &str = "2m";

pub(super) fn decode(
    mut table: Table<'_, '_, '_>,
    key: &Spanned<String>,
) -> Option<(Addon, Completeness)> {
    let cluster = table.required("cluster", r#"cluster = "aks-payments""#, |field| {
        field.name(&AKS_CLUSTER)
    });
    let resource_group = table.required(
        "resource_group",
        r#"resource_group = "rg-payments""#,
        |field| field.name(&RESOURCE_GROUP),
    );
    let secret_rotation = table.defaulted("secret_rotation", false, |field| field.boolean());
    let default_interval = GoDuration::parse(DEFAULT_POLL_INTERVAL).ok()?;
    let interval = table.defaulted("rotation_poll_interval", default_interval, |field| {
        field.duration()
    });
    let kube_context = table.optional("kube_context", |field| {
        let mut field = field;
        if field.value.get_ref().as_str() == Some("") {
            let span = field.span();
            field.push(
                Diagnostic::error("invalid-value", "`kube_context` is empty", span)
                    .with_label("empty context name")
                    .with_help("omit `kube_context` to reach the cluster through ARM"),
            );
            return None;
        }
        field.string()
    });
    let workload_identity = table.defaulted("workload_identity", false, |field| field.boolean());
    let depends_on = table.optional("depends_on", |field| field.addresses());
    // Only a value that was read: a default or an unreadable value has the table's span.
    if !secret_rotation.value && interval.span != table.span {
        table.push(
            Diagnostic::warning(
                "unused-setting",
                format!(
                    "`{}` has no effect while secret rotation is off",
                    table.path_of("rotation_poll_interval")
                ),
                interval.span.clone(),
            )
            .with_label("ignored")
            .with_help("set `secret_rotation = true` to refresh mounted secrets at this interval"),
        );
    }
    let completeness = table.finish_resource()?;
    let addon = Addon {
        key_span: key.span.clone(),
        cluster: cluster?,
        resource_group: resource_group?,
        secret_rotation,
        rotation_poll_interval: interval,
        kube_context,
        workload_identity,
        depends_on: depends_on.unwrap_or_default(),
    };
    Some((addon, completeness))
}
