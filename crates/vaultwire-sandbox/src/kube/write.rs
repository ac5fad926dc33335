//! POST (create) and PUT (replace), and the tail every write shares: admission, field
//! ownership, no-op detection, `dryRun=All`, storage.
//!
//! Preconditions are checked here in the API server's order: body shape, names, namespace,
//! resourceVersion, uid.

use http::StatusCode;
use serde_json::{Value, json};

use super::admission;
use super::context::Ctx;
use super::fieldmanager::Actor;
use super::managed::Managed;
use super::object;
use super::request;
use super::schema;
use super::status::StatusError;
use super::store::Store;
use super::wire::KubeResponse;

pub(super) fn create(store: &mut Store, ctx: &Ctx<'_>) -> Result<KubeResponse, StatusError> {
    let mut body = request::decode_body(ctx.body, &request::content_type(ctx.headers))?;
    check_type_meta(ctx, &body)?;
    check_namespace(ctx, &body)?;
    if object::resource_version(&body).is_some() {
        return Err(StatusError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let name = match (object::name(&body), object::meta_str(&body, "generateName")) {
        (Some(name), _) => name.to_owned(),
        (None, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", store.mint_suffix()),
        _ => {
            let cause =
                super::status::Cause::required("metadata.name", "name or generateName is required");
            return Err(StatusError::invalid(
                ctx.def,
                "",
                std::slice::from_ref(&cause),
            ));
        }
    };
    if let Some(namespace) = ctx.namespace
        && !store.namespace_exists(namespace)
    {
        return Err(StatusError::namespace_not_found(namespace));
    }
    if store.get(ctx.def, ctx.namespace, &name).is_some() {
        return Err(StatusError::already_exists(ctx.def, &name));
    }
    let report = schema::check(ctx.def, &mut body);
    let warnings = schema::enforce(
        ctx.def,
        ctx.version.name,
        &name,
        report,
        schema::directive(&ctx.query)?,
        None,
    )?;
    let mut managed = Managed::decode(&body).unwrap_or_default();
    let prepared = admission::prepare(ctx.def, store, None, body, ctx.namespace, &name, ctx.now)?;
    managed.update(ctx.def, None, &prepared, actor(ctx).as_actor());
    let candidate = with_managed(prepared, &managed);
    if ctx.query.dry_run()? {
        return Ok(ctx.respond_object(StatusCode::CREATED, &candidate, &warnings));
    }
    let stored = store.write(ctx.def, candidate);
    Ok(ctx.respond_stored(StatusCode::CREATED, stored, &warnings))
}

pub(super) fn replace(
    store: &mut Store,
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<KubeResponse, StatusError> {
    let mut body = request::decode_body(ctx.body, &request::content_type(ctx.headers))?;
    check_type_meta(ctx, &body)?;
    check_namespace(ctx, &body)?;
    let body_name = object::name(&body).unwrap_or_default();
    if body_name != name {
        return Err(StatusError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let live = store
        .get(ctx.def, ctx.namespace, name)
        .cloned()
        .ok_or_else(|| StatusError::not_found(ctx.def, name))?;
    match object::resource_version(&body) {
        None if !ctx.def.unconditional_update => {
            return Err(StatusError::resource_version_required(ctx.def, name));
        }
        Some(version) if Some(version) != object::resource_version(&live) => {
            return Err(StatusError::modified(ctx.def, name));
        }
        _ => {}
    }
    check_uid(ctx, &body, &live, name)?;
    let report = schema::check(ctx.def, &mut body);
    let warnings = schema::enforce(
        ctx.def,
        ctx.version.name,
        name,
        report,
        schema::directive(&ctx.query)?,
        None,
    )?;
    let managed = managed_of(&body, &live);
    commit_update(store, ctx, &live, body, managed, &warnings)
}

/// The managed fields a write starts from: the request's own when it sets them (clients may
/// edit them), otherwise the stored ones.
pub(super) fn managed_of(candidate: &Value, live: &Value) -> Managed {
    match Managed::decode(candidate) {
        Ok(managed) if !managed.is_empty() => managed,
        _ => Managed::decode(live).unwrap_or_default(),
    }
}

/// Admission, Update ownership, no-op detection and storage for a write to an existing object.
pub(super) fn commit_update(
    store: &mut Store,
    ctx: &Ctx<'_>,
    live: &Value,
    candidate: Value,
    mut managed: Managed,
    warnings: &[String],
) -> Result<KubeResponse, StatusError> {
    let name = object::name(live).unwrap_or_default().to_owned();
    let prepared = admission::prepare(
        ctx.def,
        store,
        Some(live),
        candidate,
        ctx.namespace,
        &name,
        ctx.now,
    )?;
    managed.update(ctx.def, Some(live), &prepared, actor(ctx).as_actor());
    let candidate = with_managed(prepared, &managed);
    finish(store, ctx, Some(live), candidate, warnings)
}

/// Stores `candidate` unless it equals `live` (then the write is a no-op and the
/// resourceVersion stays) or the request is a dry run.
pub(super) fn finish(
    store: &mut Store,
    ctx: &Ctx<'_>,
    live: Option<&Value>,
    mut candidate: Value,
    warnings: &[String],
) -> Result<KubeResponse, StatusError> {
    let status = if live.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    if let Some(live) = live {
        if unchanged(live, &candidate) {
            return Ok(ctx.respond_object(status, live, warnings));
        }
        if let Some(version) = object::resource_version(live) {
            object::metadata_mut(&mut candidate)
                .insert("resourceVersion".to_owned(), json!(version));
        }
    }
    if ctx.query.dry_run()? {
        let shown = super::store::canonical(candidate);
        return Ok(ctx.respond_object(status, &shown, warnings));
    }
    let stored = store.write(ctx.def, candidate);
    Ok(ctx.respond_stored(status, stored, warnings))
}

/// The owned strings behind a [`Actor`] for this request.
pub(super) struct ActorOf {
    manager: String,
    api_version: String,
    now: String,
}

impl ActorOf {
    pub fn as_actor(&self) -> Actor<'_> {
        Actor {
            manager: &self.manager,
            api_version: &self.api_version,
            now: &self.now,
        }
    }
}

pub(super) fn actor(ctx: &Ctx<'_>) -> ActorOf {
    ActorOf {
        manager: ctx.manager(),
        api_version: ctx.api_version(),
        now: admission::time(ctx.now),
    }
}

pub(super) fn with_managed(mut object: Value, managed: &Managed) -> Value {
    let metadata = object::metadata_mut(&mut object);
    if managed.is_empty() {
        metadata.remove("managedFields");
    } else {
        metadata.insert("managedFields".to_owned(), managed.encode());
    }
    object
}

/// Equal apart from resourceVersion and managed-field timestamps.
fn unchanged(live: &Value, candidate: &Value) -> bool {
    let strip = |object: &Value| {
        let mut copy = object.clone();
        let metadata = object::metadata_mut(&mut copy);
        metadata.remove("managedFields");
        metadata.remove("resourceVersion");
        copy
    };
    let same_fields = match (Managed::decode(live), Managed::decode(candidate)) {
        (Ok(before), Ok(after)) => before.same_ignoring_time(&after),
        _ => false,
    };
    same_fields && strip(live) == strip(candidate)
}

/// `apiVersion` and `kind`, when sent, must name the resource of the URL.
pub(super) fn check_type_meta(ctx: &Ctx<'_>, body: &Value) -> Result<(), StatusError> {
    if !body.is_object() {
        return Err(StatusError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: the body must be a JSON object",
            ctx.def.kind, ctx.version.name, ctx.def.kind
        )));
    }
    if let Some(kind) = body.get("kind").and_then(Value::as_str)
        && kind != ctx.def.kind
    {
        return Err(StatusError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            ctx.def.kind
        )));
    }
    if let Some(version) = body.get("apiVersion").and_then(Value::as_str)
        && version != ctx.api_version()
    {
        return Err(StatusError::bad_request(format!(
            "the API version in the data ({version}) does not match the expected API version ({})",
            ctx.api_version()
        )));
    }
    Ok(())
}

pub(super) fn check_namespace(ctx: &Ctx<'_>, body: &Value) -> Result<(), StatusError> {
    if let (Some(sent), Some(url)) = (object::namespace(body), ctx.namespace)
        && sent != url
    {
        return Err(StatusError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// A uid in the request is a precondition.
pub(super) fn check_uid(
    ctx: &Ctx<'_>,
    body: &Value,
    live: &Value,
    name: &str,
) -> Result<(), StatusError> {
    if let Some(sent) = object::uid(body).filter(|uid| !uid.is_empty())
        && Some(sent) != object::uid(live)
    {
        return Err(StatusError::conflict(
            ctx.def,
            name,
            &format!(
                "Precondition failed: UID in precondition: {sent}, UID in object meta: {}",
                object::uid(live).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}
