//! The lists of a SecretProviderClass: `objects` (what the provider mounts) and `sync` (the
//! Kubernetes Secrets the driver fills from mounted files).
//!
//! Rules local to one entry live here (the provider's "format and encoding only for secrets",
//! unique keys within one Secret); rules between entries and resources are in `validate`.

use std::collections::BTreeMap;

use crate::plan::decode::reader::{Field, Table};
use crate::plan::diagnostic::Diagnostic;
use crate::plan::model::{ObjectType, Spanned, SpcObject, SyncData, SyncSecret};
use crate::plan::names::azure::{KEY_VAULT_OBJECT, OBJECT_VERSION};
use crate::plan::names::kubernetes::{
    ANNOTATION_KEY, ANNOTATION_VALUE, FILE_NAME, FILE_PERMISSION, LABEL_KEY, LABEL_VALUE,
    SECRET_DATA_KEY, SECRET_NAME, SECRET_TYPE,
};

const OBJECT_KEYS: &[&str] = &[
    "name",
    "type",
    "version",
    "alias",
    "format",
    "encoding",
    "file_permission",
];
const SYNC_KEYS: &[&str] = &["secret_name", "type", "labels", "annotations", "data"];
const DATA_KEYS: &[&str] = &["object", "key"];

/// `objects = [{ name, type, … }, …]`: at least one.
pub(super) fn objects(field: Field<'_, '_, '_>) -> Option<Vec<SpcObject>> {
    let field = non_empty(
        field,
        "the SecretProviderClass mounts nothing without objects",
    )?;
    field.tables(OBJECT_KEYS, object)
}

/// `sync = [{ secret_name, type, data = [{ object, key }, …] }, …]`.
pub(super) fn sync(field: Field<'_, '_, '_>) -> Option<Vec<SyncSecret>> {
    field.tables(SYNC_KEYS, sync_secret)
}

fn object(mut table: Table<'_, '_, '_>) -> Option<SpcObject> {
    let name = table.required("name", r#"name = "db-password""#, |field| {
        field.name(&KEY_VAULT_OBJECT)
    });
    let object_type = table.required("type", r#"type = "secret""#, |field| field.choice());
    let version = table.optional("version", |field| field.name(&OBJECT_VERSION));
    let alias = table.optional("alias", |field| field.name(&FILE_NAME));
    let format = table.optional("format", |field| field.choice());
    let encoding = table.optional("encoding", |field| field.choice());
    let permission = table.optional("file_permission", |field| field.name(&FILE_PERMISSION));
    if let Some(object_type) = &object_type
        && object_type.value != ObjectType::Secret
    {
        let spans = [
            ("format", format.as_ref().map(|f| f.span.clone())),
            ("encoding", encoding.as_ref().map(|e| e.span.clone())),
        ];
        for (key, span) in spans {
            if let Some(span) = span {
                table.push(secret_only(key, object_type, span));
            }
        }
    }
    let span = table.span.clone();
    table.finish()?;
    Some(SpcObject {
        span,
        name: name?,
        object_type: object_type?.value,
        version: version.map(|v| v.value),
        alias,
        format: format.map(|f| f.value),
        encoding: encoding.map(|e| e.value),
        file_permission: permission.map(|p| p.value),
    })
}

/// The provider reads `objectFormat` and `objectEncoding` only for objects of type secret.
fn secret_only(
    key: &str,
    object_type: &Spanned<ObjectType>,
    span: std::ops::Range<usize>,
) -> Diagnostic {
    Diagnostic::error(
        "secret-only-option",
        format!("`{key}` applies only to objects of type `secret`"),
        span,
    )
    .with_label(format!("not for type `{}`", object_type.value.as_str()))
    .with_related(object_type.span.clone(), "type set here")
    .with_help(
        "the provider reads `format` and `encoding` only for secrets; to mount a certificate \
         with its private key as PEM or PFX, use `type = \"secret\"`",
    )
}

fn sync_secret(mut table: Table<'_, '_, '_>) -> Option<SyncSecret> {
    let secret_name = table.required("secret_name", r#"secret_name = "payments-db""#, |field| {
        field.name(&SECRET_NAME)
    });
    let secret_type = table.defaulted("type", "Opaque".to_owned(), |field| {
        field.name(&SECRET_TYPE)
    });
    let labels = table.optional("labels", |field| field.string_map(&LABEL_KEY, &LABEL_VALUE));
    let annotations = table.optional("annotations", |field| {
        field.string_map(&ANNOTATION_KEY, &ANNOTATION_VALUE)
    });
    let data = table.required(
        "data",
        r#"data = [{ object = "db-password", key = "password" }]"#,
        |field| {
            let field = non_empty(field, "a synced Secret needs at least one key")?;
            field.tables(DATA_KEYS, data)
        },
    );
    if let Some(data) = &data {
        let mut first_use: BTreeMap<&str, &Spanned<String>> = BTreeMap::new();
        for item in data {
            match first_use.get(item.key.value.as_str()) {
                Some(first) => table.push(
                    Diagnostic::error(
                        "duplicate-data-key",
                        format!("key `{}` appears twice in one Secret", item.key.value),
                        item.key.span.clone(),
                    )
                    .with_label("second use")
                    .with_related(first.span.clone(), "first used here")
                    .with_help("each key of a Secret holds one object; rename one of them"),
                ),
                None => {
                    first_use.insert(&item.key.value, &item.key);
                }
            }
        }
    }
    let span = table.span.clone();
    table.finish()?;
    Some(SyncSecret {
        span,
        secret_name: secret_name?,
        secret_type,
        labels: labels.unwrap_or_default(),
        annotations: annotations.unwrap_or_default(),
        data: data?,
    })
}

fn data(mut table: Table<'_, '_, '_>) -> Option<SyncData> {
    let object = table.required("object", r#"object = "db-password""#, |field| {
        field.string()
    });
    let key = table.required("key", r#"key = "password""#, |field| {
        field.name(&SECRET_DATA_KEY)
    });
    table.finish()?;
    Some(SyncData {
        object: object?,
        key: key?,
    })
}

/// Passes the field on unless it is an empty array, which is reported with `why`.
fn non_empty<'t, 'i, 's>(mut field: Field<'t, 'i, 's>, why: &str) -> Option<Field<'t, 'i, 's>> {
    if field
        .value
        .get_ref()
        .as_array()
        .is_some_and(|items| items.is_empty())
    {
        let diagnostic = Diagnostic::error(
            "empty-list",
            format!("`{}` is empty", field.path),
            field.span(),
        )
        .with_label("no entries")
        .with_help(why.to_owned());
        field.push(diagnostic);
        return None;
    }
    Some(field)
}
