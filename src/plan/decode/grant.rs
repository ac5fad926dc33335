//! `[grant.KEY]`: who may read a vault, and with which role or permissions.
//!
//! Whether a grant's role or permissions suit its vault's authorization mode is a check
//! across resources (`validate`); here each field is read on its own.

use crate::plan::decode::reader::{Completeness, Field, Table};
use crate::plan::model::{Grant, Principal, Spanned};
use crate::plan::names::access::{
    CERTIFICATE_PERMISSION, KEY_PERMISSION, ROLE, SECRET_PERMISSION, role,
};

pub(super) const KEYS: &[&str] = &[
    "vault",
    "principal",
    "role",
    "secret_permissions",
    "key_permissions",
    "certificate_permissions",
    "depends_on",
];

/// The three forms of `principal`, by the keys that choose them.
const FORMS: [(&str, &[&str]); 4] = [
    ("addon", &["addon"]),
    ("identity", &["identity"]),
    ("workload_identity", &["workload_identity"]),
    ("object", &["object_id", "type"]),
];
const ALL_PRINCIPAL_KEYS: &[&str] = &[
    "addon",
    "identity",
    "workload_identity",
    "object_id",
    "type",
];
const WORKLOAD_IDENTITY_KEYS: &[&str] = &["client_id", "object_id"];
const PRINCIPAL_FORMS_HELP: &str = "write `principal = { addon = \"KEY\" }`, `principal = { \
    identity = \"KEY\" }`, `principal = { workload_identity = { client_id = \"…\", object_id = \"…\" } }` or `principal = { object_id \
    = \"…\", type = \"ServicePrincipal\" }`";

pub(super) fn decode(
    mut table: Table<'_, '_, '_>,
    key: &Spanned<String>,
) -> Option<(Grant, Completeness)> {
    let vault = table.required("vault", r#"vault = "payments""#, |field| field.string());
    let principal = table.required("principal", r#"principal = { addon = "main" }"#, principal);
    let role = table.optional("role", |field| {
        // `name` reports a wrong type or an unknown role; only a valid one converts.
        let text = field.name(&ROLE)?;
        role(&text.value)
            .ok()
            .map(|role| Spanned::new(role, text.span))
    });
    let secrets = table.optional("secret_permissions", |field| {
        field.names(&SECRET_PERMISSION)
    });
    let keys = table.optional("key_permissions", |field| field.names(&KEY_PERMISSION));
    let certificates = table.optional("certificate_permissions", |field| {
        field.names(&CERTIFICATE_PERMISSION)
    });
    let depends_on = table.optional("depends_on", |field| field.addresses());
    let completeness = table.finish_resource()?;
    let grant = Grant {
        key_span: key.span.clone(),
        vault: vault?,
        principal: principal?,
        role,
        secret_permissions: secrets.map(without_spans),
        key_permissions: keys.map(without_spans),
        certificate_permissions: certificates.map(without_spans),
        depends_on: depends_on.unwrap_or_default(),
    };
    Some((grant, completeness))
}

fn without_spans(list: Spanned<Vec<Spanned<String>>>) -> Spanned<Vec<String>> {
    Spanned::new(
        list.value.into_iter().map(|item| item.value).collect(),
        list.span,
    )
}

/// `{ addon = KEY }` | `{ identity = KEY }` | `{ workload_identity = { client_id, object_id } }` | `{ object_id, type }`.
fn principal(field: Field<'_, '_, '_>) -> Option<Spanned<Principal>> {
    let span = field.span();
    if !field.value.get_ref().is_table() {
        return field.not_a_form(PRINCIPAL_FORMS_HELP);
    }
    let keys = field.table_keys();
    let chosen: Vec<&str> = FORMS
        .iter()
        .filter(|(_, form_keys)| keys.iter().any(|key| form_keys.contains(key)))
        .map(|(form, _)| *form)
        .collect();
    let path = field.path.clone();
    match chosen.as_slice() {
        ["addon"] => field.table(&["addon"], |mut table| {
            let addon = table.required("addon", r#"addon = "main""#, |field| field.string())?;
            table.finish()?;
            Some(Spanned::new(Principal::Addon(addon), span))
        }),
        ["identity"] => field.table(&["identity"], |mut table| {
            let identity = table.required("identity", r#"identity = "payments""#, |field| {
                field.string()
            })?;
            table.finish()?;
            Some(Spanned::new(Principal::Identity(identity), span))
        }),
        ["workload_identity"] => field.table(&["workload_identity"], |mut table| {
            let identity = table.required(
                "workload_identity",
                r#"workload_identity = { client_id = "…", object_id = "…" }"#,
                |field| {
                    field.table(WORKLOAD_IDENTITY_KEYS, |mut table| {
                        let client_id = table.required_guid("client_id");
                        let object_id = table.required_guid("object_id");
                        table.finish()?;
                        Some(Principal::WorkloadIdentity {
                            client_id: client_id?.value,
                            object_id: object_id?.value,
                        })
                    })
                },
            )?;
            table.finish()?;
            Some(Spanned::new(identity, span))
        }),
        ["object"] => field.table(&["object_id", "type"], |mut table| {
            let object_id = table.required_guid("object_id");
            let principal_type = table.required("type", r#"type = "ServicePrincipal""#, |field| {
                field.choice()
            });
            table.finish()?;
            Some(Spanned::new(
                Principal::Object {
                    object_id: object_id?.value,
                    principal_type: principal_type?.value,
                },
                span,
            ))
        }),
        _ => {
            // No form, or several: report unknown keys against every form's keys, then the
            // choice itself.
            let message = if chosen.is_empty() {
                format!("`{path}` names no principal")
            } else {
                let forms: Vec<&str> = chosen.iter().map(|form| form_name(form)).collect();
                format!("`{path}` mixes {}", forms.join(" and "))
            };
            field.invalid_form(
                "invalid-principal",
                message,
                PRINCIPAL_FORMS_HELP,
                ALL_PRINCIPAL_KEYS,
            )
        }
    }
}

fn form_name(form: &str) -> &'static str {
    match form {
        "addon" => "an add-on identity (`addon`)",
        "identity" => "a managed identity of the plan (`identity`)",
        "workload_identity" => "a workload identity (`workload_identity`)",
        _ => "an Entra object (`object_id`, `type`)",
    }
}
