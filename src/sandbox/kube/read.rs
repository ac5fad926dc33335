//! GET of one object and of collections (namespaced or across all namespaces), as the plain
//! object or list, a `Table` for kubectl, or `PartialObjectMetadata`.
//!
//! Read-only: nothing here touches the store's contents.

use http::StatusCode;
use serde_json::{Value, json};

use super::columns;
use super::context::{Ctx, in_version};
use super::object;
use super::request::{self, Representation};
use super::selector::{FieldSelector, LabelSelector};
use super::status::StatusError;
use super::store::Store;
use super::wire::KubeResponse;

pub(super) fn get(store: &Store, ctx: &Ctx<'_>, name: &str) -> Result<KubeResponse, StatusError> {
    let found = store
        .get(ctx.def, ctx.namespace, name)
        .ok_or_else(|| StatusError::not_found(ctx.def, name))?;
    let body = match request::representation(ctx.headers) {
        Representation::Object => ctx.output(found),
        Representation::Table => table(ctx, &[found], store.revision())?,
        Representation::PartialObjectMetadata => partial(found),
    };
    Ok(ctx.respond(StatusCode::OK, &body, &[]))
}

pub(super) fn list(store: &Store, ctx: &Ctx<'_>) -> Result<KubeResponse, StatusError> {
    if ctx.query.flag("watch") {
        return Err(StatusError::not_emulated("watch"));
    }
    let items = select(store, ctx)?;
    let revision = store.revision().to_string();
    let body = match request::representation(ctx.headers) {
        Representation::Object if shown_as_stored(ctx, &items) => {
            // The usual case, written without copying every object first.
            let list = ObjectList {
                kind: format!("{}List", ctx.def.kind),
                api_version: ctx.api_version(),
                metadata: json!({"resourceVersion": revision}),
                items,
            };
            return Ok(ctx.respond(StatusCode::OK, &list, &[]));
        }
        Representation::Object => {
            let items: Vec<Value> = items.iter().map(|item| list_item(ctx, item)).collect();
            json!({
                "kind": format!("{}List", ctx.def.kind),
                "apiVersion": ctx.api_version(),
                "metadata": {"resourceVersion": revision},
                "items": items,
            })
        }
        Representation::Table => table(ctx, &items, store.revision())?,
        Representation::PartialObjectMetadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": revision},
            "items": items.iter().map(|item| partial(item)).collect::<Vec<_>>(),
        }),
    };
    Ok(ctx.respond(StatusCode::OK, &body, &[]))
}

/// The objects a collection request selects, sorted by namespace and name. `limit` and
/// `continue` are accepted and ignored: everything comes in one page.
pub(super) fn select<'s>(store: &'s Store, ctx: &Ctx<'_>) -> Result<Vec<&'s Value>, StatusError> {
    let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or_default())?;
    let fields = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or_default(), ctx.def)?;
    Ok(store
        .list(ctx.def, ctx.namespace)
        .into_iter()
        .filter(|item| labels.matches(object::labels(item)) && fields.matches(item))
        .collect())
}

/// A list whose items are shown exactly as stored.
#[derive(serde::Serialize)]
struct ObjectList<'s> {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    metadata: Value,
    items: Vec<&'s Value>,
}

/// Whether [`list_item`] would show every item as stored: custom resources (their items keep
/// `kind` and `apiVersion`) stored in the version asked for.
fn shown_as_stored(ctx: &Ctx<'_>, items: &[&Value]) -> bool {
    let api_version = ctx.api_version();
    ctx.def.custom && items.iter().all(|item| in_version(item, &api_version))
}

/// Typed lists from the real server carry no `kind`/`apiVersion` on items; custom resource
/// lists (unstructured) do.
fn list_item(ctx: &Ctx<'_>, item: &Value) -> Value {
    let mut shown = ctx.output(item);
    if !ctx.def.custom
        && let Some(fields) = shown.as_object_mut()
    {
        fields.remove("kind");
        fields.remove("apiVersion");
    }
    shown
}

fn partial(item: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": item.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

/// A `meta.k8s.io/v1` Table; `includeObject` (None, Metadata by default, Object) says what each
/// row carries. kubectl fills its NAMESPACE column from the rows' object metadata.
fn table(ctx: &Ctx<'_>, items: &[&Value], revision: u64) -> Result<Value, StatusError> {
    let include = ctx.query.get("includeObject").unwrap_or("Metadata");
    if !matches!(include, "None" | "Metadata" | "Object") {
        return Err(StatusError::bad_request(format!(
            "includeObject: Unsupported value: \"{include}\": supported values: \"Metadata\", \"None\", \"Object\""
        )));
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut row = json!({"cells": columns::cells(ctx.def.columns, item, ctx.now)});
            match include {
                "Object" => row["object"] = ctx.output(item),
                "Metadata" => row["object"] = partial(item),
                _ => {}
            }
            row
        })
        .collect();
    Ok(json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": revision.to_string()},
        "columnDefinitions": columns::definitions(ctx.def.columns),
        "rows": rows,
    }))
}
