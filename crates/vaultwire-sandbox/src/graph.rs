//! Microsoft Graph (`https://graph.microsoft.com/v1.0/…`), as far as az's role-assignment
//! commands use it: service principals by object ID, by app ID and by service principal name,
//! users by principal name (there are none), and `directoryObjects/getByIds`. The sandbox's
//! principals are its app registrations and its managed identities. Errors have Graph's shape.

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Audience, AuthFailure, authenticate};
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::world::World;

const ROOT: &str = "https://graph.microsoft.com/v1.0";

pub fn handle(ctx: &Ctx<'_>, world: &World, req: &Req) -> Resp {
    let mut resp = answer(ctx, world, req);
    let request_id = uuid::Uuid::new_v4().to_string();
    resp.set_header("request-id", &request_id);
    if let Some(id) = req.header("client-request-id") {
        resp.set_header("client-request-id", id);
    }
    resp
}

/// The journal's name for a Graph request's route.
pub fn label(req: &Req) -> &'static str {
    let path = req.path.to_ascii_lowercase();
    if path.contains("/directoryobjects/getbyids") {
        "graph directoryObjects/getByIds"
    } else if path.contains("/serviceprincipals") {
        "graph servicePrincipals"
    } else if path.contains("/users") {
        "graph users"
    } else {
        "graph"
    }
}

fn answer(ctx: &Ctx<'_>, world: &World, req: &Req) -> Resp {
    if let Err(failure) = authenticate(ctx, req, Audience::Graph) {
        return unauthorized(&failure);
    }
    let segments = req.segments();
    let words: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match (words.as_slice(), &req.method) {
        (["v1.0", "serviceprincipals"], &Method::GET) => list(world, req, "servicePrincipals"),
        (["v1.0", "users"], &Method::GET) => list(world, req, "users"),
        (["v1.0", "serviceprincipals", id], &Method::GET) => {
            match principals(world).into_iter().find(|sp| matches_key(sp, id)) {
                Some(sp) => Resp::json(
                    StatusCode::OK,
                    &with_context(sp, "servicePrincipals/$entity"),
                ),
                None => not_found(id),
            }
        }
        (["v1.0", "directoryobjects", "getbyids"], &Method::POST) => by_ids(world, req),
        (["v1.0", ..], _) => error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!(
                "Resource not found for the segment '{}'.",
                segments.get(1).map_or("", String::as_str)
            ),
        ),
        _ => error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid version: the sandbox serves Microsoft Graph v1.0 only.",
        ),
    }
}

/// `servicePrincipal` and `servicePrincipals(appId='…')` keys: an object ID, or `appId='…'`.
fn matches_key(sp: &Value, key: &str) -> bool {
    let field = |name: &str| sp[name].as_str().unwrap_or_default().to_ascii_lowercase();
    match key
        .strip_prefix("(appid='")
        .or_else(|| key.strip_prefix("appid='"))
        .and_then(|rest| rest.strip_suffix("')").or_else(|| rest.strip_suffix('\'')))
    {
        Some(app_id) => field("appId") == app_id,
        None => field("id") == key,
    }
}

/// A collection with the `$filter` az sends. Users: the sandbox has none, so any supported
/// filter finds nothing.
fn list(world: &World, req: &Req, collection: &str) -> Resp {
    let candidates = if collection == "users" {
        Vec::new()
    } else {
        principals(world)
    };
    let value: Vec<Value> = match req.query_param("$filter") {
        None => candidates,
        Some(filter) => match Filter::parse(&filter) {
            Some(filter) => candidates
                .into_iter()
                .filter(|object| filter.matches(object))
                .collect(),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    &format!("Unsupported or invalid query filter clause specified: '{filter}'."),
                );
            }
        },
    };
    Resp::json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{ROOT}/$metadata#{collection}"),
            "value": value,
        }),
    )
}

/// The `$filter` clauses the sandbox understands.
enum Filter {
    /// `servicePrincipalNames/any(c:c eq 'X')`
    ServicePrincipalName(String),
    /// `FIELD eq 'X'` on a string property.
    Equals { field: String, value: String },
}

impl Filter {
    fn parse(text: &str) -> Option<Filter> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("servicePrincipalNames/any(") {
            // `c:c eq 'X')`, any variable name.
            let (variable, rest) = rest.split_once(':')?;
            let rest = rest.trim().strip_prefix(variable)?.trim_start();
            let value = quoted(rest.strip_prefix("eq")?.trim().strip_suffix(')')?)?;
            return Some(Filter::ServicePrincipalName(value));
        }
        let (field, rest) = text.split_once(' ')?;
        let value = quoted(rest.trim().strip_prefix("eq")?.trim())?;
        ["appId", "displayName", "userPrincipalName", "id"]
            .iter()
            .find(|known| known.eq_ignore_ascii_case(field))
            .map(|known| Filter::Equals {
                field: (*known).to_owned(),
                value,
            })
    }

    fn matches(&self, object: &Value) -> bool {
        match self {
            Filter::ServicePrincipalName(name) => object["servicePrincipalNames"]
                .as_array()
                .is_some_and(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|n| n.eq_ignore_ascii_case(name))
                }),
            Filter::Equals { field, value } => object[field.as_str()]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(value)),
        }
    }
}

/// `'X'` with OData's doubled quotes undone.
fn quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

#[derive(Deserialize)]
struct ByIds {
    ids: Vec<String>,
    #[serde(default)]
    types: Vec<String>,
}

/// `POST /v1.0/directoryObjects/getByIds`: the objects found, in no particular order; unknown
/// IDs are left out, as Graph does.
fn by_ids(world: &World, req: &Req) -> Resp {
    let Ok(body) = req.json::<ByIds>() else {
        return error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid request: the body must have an `ids` array.",
        );
    };
    let wants_principals = body.types.is_empty()
        || body
            .types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("servicePrincipal"));
    let value: Vec<Value> = if wants_principals {
        principals(world)
            .into_iter()
            .filter(|sp| {
                let id = sp["id"].as_str().unwrap_or_default();
                body.ids
                    .iter()
                    .any(|wanted| wanted.eq_ignore_ascii_case(id))
            })
            .collect()
    } else {
        Vec::new()
    };
    Resp::json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{ROOT}/$metadata#directoryObjects"),
            "value": value,
        }),
    )
}

/// Every service principal: the app registrations' and the managed identities', sorted by
/// object ID.
fn principals(world: &World) -> Vec<Value> {
    let apps = world.apps.values().map(|app| {
        json!({
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": app.object_id,
            "accountEnabled": true,
            "appDisplayName": app.display_name,
            "appId": app.client_id,
            "appOwnerOrganizationId": world.tenant_id,
            "displayName": app.display_name,
            "servicePrincipalNames": [app.client_id],
            "servicePrincipalType": "Application",
            "signInAudience": "AzureADMyOrg",
            "tags": [],
        })
    });
    let identities = world.identities.values().map(|identity| {
        let resource_id = identity.resource_id(&world.subscription_id);
        json!({
            "@odata.type": "#microsoft.graph.servicePrincipal",
            "id": identity.principal_id,
            "accountEnabled": true,
            "alternativeNames": ["isExplicit=True", resource_id],
            "appId": identity.client_id,
            "displayName": identity.name,
            "servicePrincipalNames": [identity.client_id, format!("https://identity.azure.net/{}", identity.principal_id)],
            "servicePrincipalType": "ManagedIdentity",
            "signInAudience": "AzureADMyOrg",
            "tags": [],
        })
    });
    let mut all: Vec<Value> = apps.chain(identities).collect();
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    all
}

fn with_context(mut object: Value, entity: &str) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.insert(
            "@odata.context".to_owned(),
            json!(format!("{ROOT}/$metadata#{entity}")),
        );
    }
    object
}

fn not_found(id: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

fn unauthorized(failure: &AuthFailure) -> Resp {
    let (code, message) = match failure {
        AuthFailure::Missing => (
            "InvalidAuthenticationToken",
            "Access token is empty.".to_owned(),
        ),
        AuthFailure::WrongAudience { aud } => (
            "InvalidAuthenticationToken",
            format!("Invalid audience: {aud}."),
        ),
        _ => (
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.".to_owned(),
        ),
    };
    error(StatusCode::UNAUTHORIZED, code, &message)
}

/// A Graph error: `{"error": {"code", "message", "innerError": {…}}}`.
pub fn error(status: StatusCode, code: &str, message: &str) -> Resp {
    Resp::json(
        status,
        &json!({
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": uuid::Uuid::new_v4().to_string(),
                },
            }
        }),
    )
}
