//! `[spc.KEY]`: a SecretProviderClass — where it lives, which vault it reads as whom. Its
//! `objects` and `sync` lists are read by `spc_items`.

use crate::plan::decode::reader::{Completeness, Field, Table};
use crate::plan::decode::spc_items;
use crate::plan::decode::values::check_name;
use crate::plan::model::{Spanned, Spc, SpcIdentity};
use crate::plan::names::kubernetes::{NAMESPACE, SPC_NAME, object_name};

pub(super) const KEYS: &[&str] = &[
    "addon",
    "namespace",
    "name",
    "vault",
    "identity",
    "objects",
    "sync",
    "restore_on_destroy",
    "depends_on",
];
const IDENTITY_FORMS_HELP: &str = "write `identity = { addon = \"KEY\" }` to use the add-on's \
    identity, `identity = { identity = \"KEY\" }` for a managed identity of the plan, or \
    `identity = { workload_identity_client_id = \"…\" }` for a workload identity made elsewhere";
/// The keys that choose each form of `identity`.
const IDENTITY_FORM_KEYS: [&str; 3] = ["addon", "identity", "workload_identity_client_id"];

pub(super) fn decode(
    mut table: Table<'_, '_, '_>,
    key: &Spanned<String>,
) -> Option<(Spc, Completeness)> {
    let addon = table.required("addon", r#"addon = "main""#, |field| field.string());
    let namespace = table.required("namespace", r#"namespace = "payments""#, |field| {
        field.name(&NAMESPACE)
    });
    let name = if table.has("name") {
        table.optional("name", |field| field.name(&SPC_NAME))
    } else {
        default_name(&mut table, key)
    };
    let vault = table.required("vault", r#"vault = "payments""#, |field| field.string());
    let identity = table.required("identity", r#"identity = { addon = "main" }"#, identity);
    let objects = table.required(
        "objects",
        r#"objects = [{ name = "db-password", type = "secret" }]"#,
        spc_items::objects,
    );
    let sync = table.optional("sync", spc_items::sync);
    let restore_on_destroy = table.optional("restore_on_destroy", |field| field.boolean());
    let depends_on = table.optional("depends_on", |field| field.addresses());
    let completeness = table.finish_resource()?;
    let spc = Spc {
        key_span: key.span.clone(),
        addon: addon?,
        namespace: namespace?,
        name: name.unwrap_or_else(|| Spanned::new(key.value.clone(), key.span.clone())),
        vault: vault?,
        identity: identity?,
        objects: objects?,
        sync: sync.unwrap_or_default(),
        restore_on_destroy: restore_on_destroy.is_some_and(|restore| restore.value),
        depends_on: depends_on.unwrap_or_default(),
    };
    Some((spc, completeness))
}

/// The table key, when it is a valid object name; otherwise the user must set `name`.
fn default_name(table: &mut Table<'_, '_, '_>, key: &Spanned<String>) -> Option<Spanned<String>> {
    let name = Spanned::new(key.value.clone(), key.span.clone());
    if let Err(invalid) = object_name(&key.value) {
        let mut diagnostics = Vec::new();
        check_name(&mut diagnostics, &SPC_NAME, &name);
        for diagnostic in diagnostics {
            table.push(diagnostic.with_help(format!(
                "the SecretProviderClass is named after its key unless `name` is set: {}",
                invalid.hint
            )));
        }
    }
    Some(name)
}

/// `{ addon = KEY }`, `{ identity = KEY }` or `{ workload_identity_client_id = "…" }`.
fn identity(field: Field<'_, '_, '_>) -> Option<Spanned<SpcIdentity>> {
    let span = field.span();
    if !field.value.get_ref().is_table() {
        return field.not_a_form(IDENTITY_FORMS_HELP);
    }
    let keys = field.table_keys();
    let chosen: Vec<&str> = IDENTITY_FORM_KEYS
        .into_iter()
        .filter(|form| keys.contains(form))
        .collect();
    match chosen.as_slice() {
        ["addon"] => field.table(&["addon"], |mut table| {
            let addon = table.required("addon", r#"addon = "main""#, |field| field.string())?;
            table.finish()?;
            Some(Spanned::new(SpcIdentity::Addon(addon), span))
        }),
        ["identity"] => field.table(&["identity"], |mut table| {
            let identity = table.required("identity", r#"identity = "payments""#, |field| {
                field.string()
            })?;
            table.finish()?;
            Some(Spanned::new(SpcIdentity::Identity(identity), span))
        }),
        ["workload_identity_client_id"] => {
            field.table(&["workload_identity_client_id"], |mut table| {
                let client_id = table.required_guid("workload_identity_client_id")?;
                table.finish()?;
                Some(Spanned::new(
                    SpcIdentity::WorkloadIdentity {
                        client_id: client_id.value,
                    },
                    span,
                ))
            })
        }
        _ => {
            let message = if chosen.is_empty() {
                format!("`{}` names no identity", field.path)
            } else {
                format!(
                    "`{}` mixes {}",
                    field.path,
                    chosen
                        .iter()
                        .map(|form| form_name(form))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            };
            field.invalid_form(
                "invalid-identity",
                message,
                IDENTITY_FORMS_HELP,
                &IDENTITY_FORM_KEYS,
            )
        }
    }
}

fn form_name(form: &str) -> &'static str {
    match form {
        "addon" => "the add-on identity (`addon`)",
        "identity" => "a managed identity of the plan (`identity`)",
        _ => "a workload identity (`workload_identity_client_id`)",
    }
}
