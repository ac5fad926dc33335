//! `[identity.KEY]`: a user-assigned managed identity, and `[federation.KEY]`: a service
//! account of a plan cluster it trusts.

use crate::plan::decode::reader::{Completeness, Table};
use crate::plan::decode::values::check_name;
use crate::plan::decode::vault::tags;
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{Federation, Identity, OnDestroy, Spanned};
use crate::plan::names::azure::{FEDERATED_CREDENTIAL, LOCATION, MANAGED_IDENTITY, RESOURCE_GROUP};
use crate::plan::names::kubernetes::{NAMESPACE, SERVICE_ACCOUNT_NAME};

pub(super) const IDENTITY_KEYS: &[&str] = &[
    "name",
    "resource_group",
    "location",
    "tags",
    "on_destroy",
    "depends_on",
];

pub(super) const FEDERATION_KEYS: &[&str] = &[
    "identity",
    "addon",
    "namespace",
    "service_account",
    "name",
    "depends_on",
];

pub(super) fn decode_identity(
    mut table: Table<'_, '_, '_>,
    key: &Spanned<String>,
) -> Option<(Identity, Completeness)> {
    let name = table.required("name", r#"name = "id-payments""#, |field| {
        field.name(&MANAGED_IDENTITY)
    });
    let resource_group = table.required(
        "resource_group",
        r#"resource_group = "rg-payments""#,
        |field| field.name(&RESOURCE_GROUP),
    );
    let location = table.required("location", r#"location = "westeurope""#, |field| {
        field.name(&LOCATION)
    });
    let tags = table.optional("tags", tags);
    // Deleting is what `destroy` means for a resource nothing else holds data in.
    let on_destroy = table.defaulted("on_destroy", OnDestroy::Delete, |field| field.choice());
    if on_destroy.value == OnDestroy::Purge {
        table.push(
            Diagnostic::error(
                "invalid-value",
                format!("`{}` cannot be `purge`", table.path_of("on_destroy")),
                on_destroy.span.clone(),
            )
            .with_label("only vaults are purged")
            .with_help("a deleted managed identity is gone at once: write `delete` or `retain`"),
        );
    }
    let depends_on = table.optional("depends_on", |field| field.addresses());
    let completeness = table.finish_resource()?;
    let identity = Identity {
        key_span: key.span.clone(),
        name: name?,
        resource_group: resource_group?,
        location: location?,
        tags: tags.unwrap_or_default(),
        on_destroy,
        depends_on: depends_on.unwrap_or_default(),
    };
    Some((identity, completeness))
}

pub(super) fn decode_federation(
    mut table: Table<'_, '_, '_>,
    key: &Spanned<String>,
) -> Option<(Federation, Completeness)> {
    let identity = table.required("identity", r#"identity = "payments""#, |field| {
        field.string()
    });
    let addon = table.required("addon", r#"addon = "main""#, |field| field.string());
    let namespace = table.required("namespace", r#"namespace = "payments""#, |field| {
        field.name(&NAMESPACE)
    });
    let service_account = table.required(
        "service_account",
        r#"service_account = "payments-api""#,
        |field| field.name(&SERVICE_ACCOUNT_NAME),
    );
    let name = if table.has("name") {
        table.optional("name", |field| field.name(&FEDERATED_CREDENTIAL))
    } else {
        default_name(&mut table, key)
    };
    let depends_on = table.optional("depends_on", |field| field.addresses());
    let completeness = table.finish_resource()?;
    let federation = Federation {
        key_span: key.span.clone(),
        identity: identity?,
        addon: addon?,
        namespace: namespace?,
        service_account: service_account?,
        name: name?,
        depends_on: depends_on.unwrap_or_default(),
    };
    Some((federation, completeness))
}

/// The table key, when it is a valid credential name; otherwise the user must set `name`.
fn default_name(table: &mut Table<'_, '_, '_>, key: &Spanned<String>) -> Option<Spanned<String>> {
    let name = Spanned::new(key.value.clone(), key.span.clone());
    let mut diagnostics = Vec::new();
    check_name(&mut diagnostics, &FEDERATED_CREDENTIAL, &name);
    for diagnostic in diagnostics {
        table.push(diagnostic.with_help(
            "the federated credential is named after its key unless `name` is set: 3-120 \
             letters, digits, `-` and `_`, starting with a letter or digit",
        ));
    }
    Some(name)
}
