//! Server-side apply (`PATCH` with `application/apply-patch+yaml`): the applied configuration
//! is checked, merged over the live object by the field manager, and created when missing.
//!
//! Request checks and the create-or-update decision; ownership rules are in `managed`.

use serde_json::Value;

use super::admission;
use super::context::Ctx;
use super::fieldmanager::{self, Actor};
use super::managed::Managed;
use super::object;
use super::request;
use super::schema;
use super::status::{Cause, StatusError};
use super::store::Store;
use super::wire::KubeResponse;
use super::write;

pub(super) fn apply(
    store: &mut Store,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<KubeResponse, StatusError> {
    let manager = match ctx.query.get("fieldManager") {
        Some(manager) if !manager.is_empty() => manager.to_owned(),
        _ => {
            return Err(StatusError::bad_request(
                "PATCH, application/apply-patch+yaml requests must include a fieldManager query parameter",
            ));
        }
    };
    let force = match ctx.query.get("force") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(StatusError::bad_request(format!(
                "invalid boolean value for force: {other}"
            )));
        }
    };
    let mut config = request::decode_body(ctx.body, "application/apply-patch+yaml")?;
    check_config(ctx, &config, name)?;
    object::strip_nulls(&mut config);
    let live = store.get(ctx.def, ctx.namespace, name).cloned();
    if let (Some(sent), Some(live)) = (object::resource_version(&config), &live)
        && Some(sent) != object::resource_version(live)
    {
        return Err(StatusError::modified(ctx.def, name));
    }
    if let Some(live) = &live {
        write::check_uid(ctx, &config, live, name)?;
    }
    if live.is_none()
        && let Some(namespace) = ctx.namespace
        && !store.namespace_exists(namespace)
    {
        return Err(StatusError::namespace_not_found(namespace));
    }
    let target = match ctx.namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    };
    let report = schema::check(ctx.def, &mut config);
    let warnings = schema::enforce(
        ctx.def,
        ctx.version.name,
        name,
        report,
        schema::directive(&ctx.query)?,
        Some(&target),
    )?;
    let mut managed = match &live {
        Some(live) => Managed::decode(live).unwrap_or_default(),
        None => Managed::default(),
    };
    let (api_version, now) = (ctx.api_version(), admission::time(ctx.now));
    let actor = Actor {
        manager: &manager,
        api_version: &api_version,
        now: &now,
    };
    let merged = managed
        .apply(ctx.def, live.as_ref(), &config, actor, force)
        .map_err(|conflicts| {
            let causes: Vec<Cause> = conflicts
                .iter()
                .map(|conflict| Cause {
                    reason: "FieldManagerConflict",
                    message: format!("conflict with {}", conflict.owner),
                    field: super::fieldset::display(&conflict.path),
                })
                .collect();
            StatusError::apply_conflict(fieldmanager::conflict_message(&conflicts), &causes)
        })?;
    let prepared = admission::prepare(
        ctx.def,
        store,
        live.as_ref(),
        merged,
        ctx.namespace,
        name,
        ctx.now,
    )?;
    let candidate = write::with_managed(prepared, &managed);
    write::finish(store, ctx, live.as_ref(), candidate, &warnings)
}

/// The applied configuration must be a whole object of the URL's type and name, without
/// managed fields.
fn check_config(ctx: &Ctx<'_>, config: &Value, name: &str) -> Result<(), StatusError> {
    let Some(fields) = config.as_object() else {
        return Err(StatusError::bad_request(
            "the applied configuration must be an object",
        ));
    };
    let text = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default();
    if text("apiVersion").is_empty() || text("kind").is_empty() {
        return Err(StatusError::bad_request(
            "invalid object type: apiVersion and kind must be set in the applied configuration",
        ));
    }
    write::check_type_meta(ctx, config)?;
    let sent = object::name(config).unwrap_or_default();
    if sent != name {
        return Err(StatusError::bad_request(format!(
            "the name of the object ({sent}) does not match the name on the URL ({name})"
        )));
    }
    write::check_namespace(ctx, config)?;
    let has_managed_fields = fields
        .get("metadata")
        .and_then(|metadata| metadata.get("managedFields"))
        .is_some_and(|managed| !managed.is_null());
    if has_managed_fields {
        return Err(StatusError::bad_request(
            "metadata.managedFields must be nil",
        ));
    }
    Ok(())
}
