//! Entra ID: the v2.0 token endpoint (client credentials with a client secret or a federated
//! client assertion), OpenID discovery and the signing keys, under `/{tenant}/…`.
//!
//! Errors use Entra's AADSTS shape. Federated assertions are accepted when the sandbox itself
//! signed them (its OIDC issuer `{endpoint}/_sandbox/oidc`), the audience is
//! `api://AzureADTokenExchange` and the subject is one the app trusts.

use http::{Method, StatusCode};
use serde_json::json;

use crate::auth::{self, Audience, Principal};
use crate::context::{Addressing, Ctx};
use crate::exchange::{Req, Resp};
use crate::model::{FederatedCredential, ManagedIdentity};
use crate::seed::secret_digest;
use crate::token::TokenError;
use crate::world::World;
use crate::{hosts, ids};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Answers one request under `/{tenant}/…` (or `/common/discovery/instance`).
pub fn handle(ctx: &Ctx<'_>, world: &World, req: &Req) -> Resp {
    let mut resp = answer(ctx, world, req);
    resp.set_header("x-ms-request-id", uuid::Uuid::new_v4().to_string());
    resp.set_header("cache-control", "no-store, no-cache");
    // MSAL sends `client-request-id` and Entra echoes it.
    if let Some(id) = req.header("client-request-id") {
        resp.set_header("client-request-id", id);
    }
    resp
}

/// The journal's name for an Entra request's route.
pub fn label(req: &Req) -> &'static str {
    let path = req.path.to_ascii_lowercase();
    if path.ends_with("/token") {
        "entra token"
    } else if path.ends_with("/keys") {
        "entra keys"
    } else {
        "entra discovery"
    }
}

fn answer(ctx: &Ctx<'_>, world: &World, req: &Req) -> Resp {
    let segments = req.segments();
    let words: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let tenant = segments.first().cloned().unwrap_or_default();
    match (words.as_slice(), &req.method) {
        ([_, "oauth2", "v2.0", "token"] | [_, "oauth2", "token"], &Method::POST) => {
            token(ctx, world, req, &tenant)
        }
        (
            [_, "v2.0", ".well-known", "openid-configuration"]
            | [_, ".well-known", "openid-configuration"],
            &Method::GET,
        ) => openid_configuration(ctx, &tenant),
        ([_, "discovery", "v2.0", "keys"] | [_, "discovery", "keys"], &Method::GET) => {
            Resp::json(StatusCode::OK, &json!({"keys": [ctx.keys.jwk()]}))
        }
        (["common", "discovery", "instance"], &Method::GET) => instance_discovery(ctx, req),
        _ => aadsts(
            StatusCode::NOT_FOUND,
            "invalid_request",
            90002,
            &format!(
                "The request path '{}' is not an Entra ID endpoint the sandbox serves.",
                req.path
            ),
        ),
    }
}

/// An Entra error body.
fn aadsts(status: StatusCode, error: &str, code: u32, description: &str) -> Resp {
    let trace = uuid::Uuid::new_v4();
    let correlation = uuid::Uuid::new_v4();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%SZ")
        .to_string();
    Resp::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace.to_string(),
            "correlation_id": correlation.to_string(),
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn known_tenant(tenant: &str) -> bool {
    tenant.eq_ignore_ascii_case(ids::TENANT_ID)
}

fn token(ctx: &Ctx<'_>, world: &World, req: &Req, tenant: &str) -> Resp {
    if !known_tenant(tenant) {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let Some(grant) = field("grant_type") else {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        );
    };
    if grant != "client_credentials" {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!(
                "The app requested an unsupported grant type '{grant}'. The sandbox issues tokens for client credentials only."
            ),
        );
    }
    let Some(client_id) = field("client_id") else {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let identity = world
        .identities
        .values()
        .find(|identity| identity.client_id.eq_ignore_ascii_case(client_id));
    let app = world.apps.get(&client_id.to_ascii_lowercase());
    if let (None, Some(identity)) = (app, identity) {
        // A managed identity signs in outside Azure only through its federated credentials.
        let Some(assertion) = field("client_assertion") else {
            return no_credential();
        };
        if let Err(resp) = assertion_type(field("client_assertion_type")) {
            return resp;
        }
        if let Err(resp) = check_federated(ctx, assertion, identity) {
            return resp;
        }
        let principal = Principal {
            object_id: identity.principal_id.clone(),
            app_id: Some(identity.client_id.clone()),
        };
        return grant_token(&principal, field("scope").unwrap_or_default(), ctx, tenant);
    }
    let Some(app) = app else {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        );
    };
    if let Some(secret) = field("client_secret") {
        if app.secret_sha256.as_deref() != Some(secret_digest(secret).as_str()) {
            return aadsts(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            );
        }
    } else if let Some(assertion) = field("client_assertion") {
        if let Err(resp) = assertion_type(field("client_assertion_type")) {
            return resp;
        }
        if let Err(resp) = check_assertion(ctx, assertion, &app.federated_subjects) {
            return resp;
        }
    } else {
        return no_credential();
    }
    let principal = Principal {
        object_id: app.object_id.clone(),
        app_id: Some(app.client_id.clone()),
    };
    grant_token(&principal, field("scope").unwrap_or_default(), ctx, tenant)
}

/// Entra's answer to a token request with neither a secret nor an assertion.
fn no_credential() -> Resp {
    aadsts(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )
}

/// `Ok` when `given` is the JWT bearer assertion type, else Entra's error.
fn assertion_type(given: Option<&str>) -> Result<(), Resp> {
    if given == Some(ASSERTION_TYPE) {
        return Ok(());
    }
    Err(aadsts(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        90014,
        &format!(
            "The request body must contain the following parameter: 'client_assertion_type' with the value '{ASSERTION_TYPE}'."
        ),
    ))
}

/// A token for `principal` for the resource `scope` names (`RESOURCE/.default`).
fn grant_token(principal: &Principal, scope: &str, ctx: &Ctx<'_>, tenant: &str) -> Resp {
    let Some(resource) = scope
        .split_whitespace()
        .find_map(|s| s.strip_suffix(".default"))
    else {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        );
    };
    // `https://management.core.windows.net//.default` names the resource
    // `https://management.core.windows.net/`: drop the one slash before `.default`.
    let resource = resource.strip_suffix('/').unwrap_or(resource).to_owned();
    let Some((_, aud)) = Audience::token_audience(&resource) else {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        );
    };
    match auth::issue(ctx, principal, &aud, auth::ACCESS_TOKEN_SECONDS) {
        Ok(access_token) => Resp::json(
            StatusCode::OK,
            &json!({
                "token_type": "Bearer",
                "expires_in": auth::ACCESS_TOKEN_SECONDS,
                "ext_expires_in": auth::ACCESS_TOKEN_SECONDS,
                "access_token": access_token,
            }),
        ),
        Err(_) => aadsts(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            50000,
            "There was an error issuing a token.",
        ),
    }
}

/// Checks a workload's token against `identity`'s federated credentials: its signature (the
/// clusters' issuers publish the sandbox's keys), then a credential with its issuer, subject
/// and audience — in that order, each with Entra's own error.
fn check_federated(ctx: &Ctx<'_>, assertion: &str, identity: &ManagedIdentity) -> Result<(), Resp> {
    let claims = verify_assertion(ctx, assertion)?;
    let delay = jiff::SignedDuration::try_from(ctx.credential_delay).unwrap_or_default();
    let (records, propagating): (Vec<&FederatedCredential>, Vec<&FederatedCredential>) =
        identity.federated_credentials.values().partition(|record| {
            record
                .written
                .and_then(|written| written.checked_add(delay).ok())
                .is_none_or(|usable| ctx.now >= usable)
        });
    let by_issuer: Vec<&&FederatedCredential> = records
        .iter()
        .filter(|record| record.issuer == claims.iss)
        .collect();
    let advice = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation";
    let refuse = |code: u32, what: &str, value: &str| {
        aadsts(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            &format!(
                "No matching federated identity record found for presented assertion {what} '{value}'. {advice}"
            ),
        )
    };
    let matches_claims = |record: &&FederatedCredential| {
        record.issuer == claims.iss
            && record.subject == claims.sub
            && record
                .audiences
                .iter()
                .any(|audience| claims.aud.contains(audience))
    };
    if !records.iter().any(matches_claims) && propagating.iter().any(matches_claims) {
        // A new credential, not in use yet (Azure/azure-workload-identity #273, #576: seconds
        // to about two minutes). UNVERIFIED: the message layout, as those reports quote it.
        return Err(aadsts(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            70021,
            &format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{}'. Assertion Subject: '{}'. Assertion Audience: '{}'. {advice}",
                claims.iss, claims.sub, claims.aud
            ),
        ));
    }
    if by_issuer.is_empty() {
        return Err(refuse(700211, "issuer", &claims.iss));
    }
    let by_subject: Vec<&&&FederatedCredential> = by_issuer
        .iter()
        .filter(|record| record.subject == claims.sub)
        .collect();
    if by_subject.is_empty() {
        return Err(refuse(700213, "subject", &claims.sub));
    }
    // UNVERIFIED: how Entra treats an assertion for several audiences; here one that a
    // credential trusts is enough.
    if !by_subject.iter().any(|record| {
        record
            .audiences
            .iter()
            .any(|audience| claims.aud.contains(audience))
    }) {
        return Err(refuse(700212, "audience", &claims.aud.to_string()));
    }
    Ok(())
}

/// The claims of a client assertion signed by the sandbox's keys, or Entra's error.
fn verify_assertion(ctx: &Ctx<'_>, assertion: &str) -> Result<crate::token::Claims, Resp> {
    ctx.keys
        .verify(assertion, ctx.now.as_second())
        .map_err(|error| match error {
            TokenError::Expired | TokenError::NotYetValid => aadsts(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            ),
            TokenError::BadSignature => aadsts(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                50013,
                "Assertion failed signature validation.",
            ),
            TokenError::Malformed | TokenError::Key => aadsts(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                50027,
                "JWT token is invalid or malformed.",
            ),
        })
}

fn check_assertion(ctx: &Ctx<'_>, assertion: &str, subjects: &[String]) -> Result<(), Resp> {
    let claims = verify_assertion(ctx, assertion)?;
    if !claims.iss.ends_with("/_sandbox/oidc") {
        return Err(aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700211,
            &format!(
                "No matching federated identity record found for presented assertion issuer '{}'.",
                claims.iss
            ),
        ));
    }
    if !claims.aud.contains(ids::FEDERATED_AUDIENCE) {
        return Err(aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{}'.",
                claims.aud
            ),
        ));
    }
    if !subjects.contains(&claims.sub) {
        return Err(aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            700213,
            &format!(
                "No matching federated identity record found for presented assertion subject '{}'.",
                claims.sub
            ),
        ));
    }
    Ok(())
}

fn openid_configuration(ctx: &Ctx<'_>, tenant: &str) -> Resp {
    if !known_tenant(tenant)
        && !tenant.eq_ignore_ascii_case("organizations")
        && !tenant.eq_ignore_ascii_case("common")
    {
        return aadsts(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            &format!("Tenant '{tenant}' not found."),
        );
    }
    let base = format!("{}/{tenant}", ctx.authority());
    Resp::json(
        StatusCode::OK,
        &json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("{base}/openid/userinfo"),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "appid"],
            "kerberos_endpoint": format!("{base}/kerberos"),
            "tenant_region_scope": "EU",
            "cloud_instance_name": match ctx.addressing {
                Addressing::Endpoint => "sandbox",
                Addressing::AzureHosts => "microsoftonline.com",
            },
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }),
    )
}

/// MSAL's instance discovery: the sandbox vouches for itself as an authority, and on Azure's
/// hosts lists the public cloud's aliases as Entra does.
fn instance_discovery(ctx: &Ctx<'_>, req: &Req) -> Resp {
    let authority = req
        .query_param("authorization_endpoint")
        .unwrap_or_default();
    let base = ctx.authority();
    let tenant = authority
        .trim_start_matches(&base)
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or(ids::TENANT_ID)
        .to_owned();
    let metadata = match ctx.addressing {
        Addressing::Endpoint => {
            let host = base.trim_start_matches("https://");
            json!([{"preferred_network": host, "preferred_cache": host, "aliases": [host]}])
        }
        Addressing::AzureHosts => json!([{
            "preferred_network": hosts::AUTHORITY_HOST,
            "preferred_cache": "login.windows.net",
            "aliases": hosts::AUTHORITY_ALIASES,
        }]),
    };
    Resp::json(
        StatusCode::OK,
        &json!({
            "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
            "api-version": "1.1",
            "metadata": metadata,
        }),
    )
}
