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
use super::store::{Store, Stored};
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
    let stored = select(store, ctx)?;
    let revision = store.revision().to_string();
    let representation = request::representation(ctx.headers);
    if representation == Representation::Object && shown_as_stored(ctx, &stored) {
        // The usual case: each item's JSON as stored, copied rather than serialized again.
        let body = object_list(ctx, &revision, &stored);
        return Ok(ctx.respond_json(StatusCode::OK, body, &[]));
    }
    let items: Vec<&Value> = stored.iter().map(|stored| &stored.object).collect();
    let body = match representation {
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
pub(super) fn select<'s>(store: &'s Store, ctx: &Ctx<'_>) -> Result<Vec<&'s Stored>, StatusError> {
    let labels = LabelSelector::parse(ctx.query.get("labelSelector").unwrap_or_default())?;
    let fields = FieldSelector::parse(ctx.query.get("fieldSelector").unwrap_or_default(), ctx.def)?;
    Ok(store
        .list(ctx.def, ctx.namespace)
        .into_iter()
        .filter(|item| labels.matches(object::labels(&item.object)) && fields.matches(&item.object))
        .collect())
}

/// A list whose items are shown exactly as stored, in the real server's key order:
/// `{"kind":…,"apiVersion":…,"metadata":{"resourceVersion":…},"items":[…]}`.
fn object_list(ctx: &Ctx<'_>, revision: &str, items: &[&Stored]) -> Vec<u8> {
    let mut body = Vec::with_capacity(
        items
            .iter()
            .map(|item| item.json().len() + 1)
            .sum::<usize>()
            + 128,
    );
    body.extend_from_slice(b"{\"kind\":");
    write_json(&mut body, &format!("{}List", ctx.def.kind));
    body.extend_from_slice(b",\"apiVersion\":");
    write_json(&mut body, &ctx.api_version());
    body.extend_from_slice(b",\"metadata\":");
    write_json(&mut body, &json!({"resourceVersion": revision}));
    body.extend_from_slice(b",\"items\":[");
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.json());
    }
    body.extend_from_slice(b"]}");
    body
}

fn write_json<T: serde::Serialize + ?Sized>(body: &mut Vec<u8>, value: &T) {
    // Writing a string or a `Value` to memory cannot fail.
    let _ = serde_json::to_writer(&mut *body, value);
}

/// Whether [`list_item`] would show every item as stored: custom resources (their items keep
/// `kind` and `apiVersion`) stored in the version asked for.
fn shown_as_stored(ctx: &Ctx<'_>, items: &[&Stored]) -> bool {
    let api_version = ctx.api_version();
    ctx.def.custom
        && items
            .iter()
            .all(|item| in_version(&item.object, &api_version))
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
