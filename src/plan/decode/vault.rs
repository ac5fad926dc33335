//! `[vault.KEY]`: a Key Vault and its firewall.
//!
//! Defaults follow what Azure does when a field is left out, except `on_destroy`, which is
//! `retain` so that forgetting it can never delete secrets.

use crate::plan::decode::reader::{Completeness, Field, Table};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{
    Authorization, NetworkAcls, NetworkBypass, OnDestroy, PublicNetworkAccess, Sku, Spanned, Vault,
};
use crate::plan::names::azure::{KEY_VAULT, LOCATION, RESOURCE_GROUP, TAG_NAME, TAG_VALUE};
use crate::plan::names::network::{IP_RULE, SUBNET_ID};

pub(super) const KEYS: &[&str] = &[
    "name",
    "resource_group",
    "location",
    "sku",
    "authorization",
    "soft_delete_retention_days",
    "purge_protection",
    "public_network_access",
    "network_acls",
    "tags",
    "on_destroy",
    "recover_soft_deleted",
    "depends_on",
];
const NETWORK_ACL_KEYS: &[&str] = &[
    "default_action",
    "bypass",
    "ip_rules",
    "virtual_network_subnet_ids",
];
/// Azure refuses more than 50 tags on a resource.
const MAX_TAGS: usize = 50;

pub(super) fn decode(
    mut table: Table<'_, '_, '_>,
    key: &Spanned<String>,
) -> Option<(Vault, Completeness)> {
    let name = table.required("name", r#"name = "kv-payments-prod""#, |field| {
        field.name(&KEY_VAULT)
    });
    let resource_group = table.required(
        "resource_group",
        r#"resource_group = "rg-payments""#,
        |field| field.name(&RESOURCE_GROUP),
    );
    let location = table.required("location", r#"location = "westeurope""#, |field| {
        field.name(&LOCATION)
    });
    let sku = table.defaulted("sku", Sku::Standard, |field| field.choice());
    let authorization =
        table.defaulted("authorization", Authorization::Rbac, |field| field.choice());
    let retention = table.defaulted("soft_delete_retention_days", 90, |field| {
        field.integer(
            7,
            90,
            "Azure keeps a deleted vault for 7 to 90 days before it is purged",
        )
    });
    let purge_protection = table.defaulted("purge_protection", false, |field| field.boolean());
    let public_network_access = table.defaulted(
        "public_network_access",
        PublicNetworkAccess::Enabled,
        |field| field.choice(),
    );
    let network_acls = table.optional("network_acls", |field| {
        field.table(NETWORK_ACL_KEYS, network_acls)
    });
    let tags = table.optional("tags", tags);
    let on_destroy = table.defaulted("on_destroy", OnDestroy::Retain, |field| field.choice());
    let recover = table.defaulted("recover_soft_deleted", true, |field| field.boolean());
    let depends_on = table.optional("depends_on", |field| field.addresses());
    let completeness = table.finish_resource()?;
    let vault = Vault {
        key_span: key.span.clone(),
        name: name?,
        resource_group: resource_group?,
        location: location?,
        sku: sku.value,
        authorization,
        soft_delete_retention_days: Spanned::new(
            u32::try_from(retention.value).unwrap_or(90),
            retention.span,
        ),
        purge_protection,
        public_network_access: public_network_access.value,
        network_acls,
        tags: tags.unwrap_or_default(),
        on_destroy,
        recover_soft_deleted: recover.value,
        depends_on: depends_on.unwrap_or_default(),
    };
    Some((vault, completeness))
}

/// `tags = { NAME = "VALUE" }`, at most as many as Azure takes.
pub(super) fn tags(field: Field<'_, '_, '_>) -> Option<std::collections::BTreeMap<String, String>> {
    let span = field.span();
    let mut field = field;
    let count = field.table_keys().len();
    if count > MAX_TAGS {
        field.push(
            Diagnostic::error(
                "too-many-tags",
                format!("`{}` has {count} tags", field.path),
                span,
            )
            .with_label(format!("at most {MAX_TAGS}"))
            .with_help("Azure allows at most 50 tags on a resource"),
        );
    }
    field.string_map(&TAG_NAME, &TAG_VALUE)
}

fn network_acls(mut table: Table<'_, '_, '_>) -> Option<NetworkAcls> {
    let default_action = table.required("default_action", r#"default_action = "Deny""#, |field| {
        field.choice()
    });
    let bypass = table.defaulted("bypass", NetworkBypass::AzureServices, |field| {
        field.choice()
    });
    let ip_rules = table.optional("ip_rules", |field| field.names(&IP_RULE));
    let subnets = table.optional("virtual_network_subnet_ids", |field| {
        field.names(&SUBNET_ID)
    });
    table.finish()?;
    let values = |list: Option<Spanned<Vec<Spanned<String>>>>| {
        list.map(|list| list.value.into_iter().map(|item| item.value).collect())
            .unwrap_or_default()
    };
    Some(NetworkAcls {
        default_action: default_action?.value,
        bypass: bypass.value,
        ip_rules: values(ip_rules),
        virtual_network_subnet_ids: values(subnets),
    })
}
