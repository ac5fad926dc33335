//! The data-plane front door: challenge authentication, the vault, api-version and firewall
//! checks, and routing to the secret operations; then Key Vault's response headers.

use http::{Method, StatusCode};
use serde_json::json;

use crate::auth::{Audience, AuthFailure, authenticate};
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::ids;
use crate::keyvault_data::{call::SecretCall, deleted, firewall, secrets};
use crate::token::TokenError;
use crate::world::World;

/// Data-plane api-versions the sandbox accepts.
const API_VERSIONS: &[&str] = &[
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6",
    "2025-07-01",
    "2026-04-01",
];

/// Key Vault's error body.
pub fn kv_error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    Resp::json(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// The journal's name for a data-plane request's route.
pub fn label(req: &Req) -> &'static str {
    match req
        .segments()
        .get(2)
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("deletedsecrets") => "keyvault deletedsecrets",
        _ => "keyvault secrets",
    }
}

/// Answers one request under `/vaults/{name}/…`.
pub fn handle(ctx: &Ctx<'_>, world: &mut World, req: &Req) -> Resp {
    let segments = req.segments();
    let mut resp = answer(ctx, world, req, &segments);
    let location = segments
        .get(1)
        .and_then(|name| world.vaults.get(&name.to_ascii_lowercase()))
        .map_or_else(|| ids::LOCATION.to_owned(), |vault| vault.location.clone());
    resp.set_header("x-ms-request-id", uuid::Uuid::new_v4().to_string());
    resp.set_header("x-ms-keyvault-region", location);
    resp.set_header("x-ms-keyvault-service-version", "1.9.2995.1");
    let (kind, family) = match req.origin.address {
        std::net::IpAddr::V4(_) => ("Ipv4", "InterNetwork"),
        std::net::IpAddr::V6(_) => ("Ipv6", "InterNetworkV6"),
    };
    resp.set_header(
        "x-ms-keyvault-network-info",
        format!(
            "conn_type={kind};addr={};act_addr_fam={family};",
            req.origin.address
        ),
    );
    resp.set_header("cache-control", "no-cache");
    if let Some(client) = req.header("x-ms-client-request-id") {
        resp.set_header("x-ms-client-request-id", client);
    }
    resp
}

fn answer(ctx: &Ctx<'_>, world: &mut World, req: &Req, segments: &[String]) -> Resp {
    let caller = match authenticate(ctx, req, Audience::KeyVault) {
        Ok(caller) => caller,
        Err(failure) => return challenge(ctx, &failure),
    };
    let Some(vault_name) = segments.get(1) else {
        return kv_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "No vault was named in the path; use /vaults/{name}/secrets.",
        );
    };
    let Some(vault) = world.vaults.get(&vault_name.to_ascii_lowercase()).cloned() else {
        // A real client would fail DNS resolution; the sandbox says so in Key Vault's shape.
        return kv_error(
            StatusCode::NOT_FOUND,
            "VaultNotFound",
            format!("The vault '{vault_name}' does not exist in the sandbox."),
        );
    };
    match req.query_param("api-version") {
        None => {
            return kv_error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                "The 'api-version' query parameter is missing.",
            );
        }
        Some(version) if !API_VERSIONS.contains(&version.as_str()) => {
            return kv_error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                format!(
                    "The specified version ({version}) is not recognized. Consider using the latest supported version (2025-07-01)."
                ),
            );
        }
        Some(_) => {}
    }
    if let Err(denied) = firewall::admit(&world.tenant_id, &vault, &caller, &req.origin) {
        return denied;
    }
    // Segments after `/vaults/{name}`: the collection keyword is matched case-insensitively,
    // names and versions are passed on as sent.
    let rest: Vec<&str> = segments.iter().skip(2).map(String::as_str).collect();
    let collection = rest
        .first()
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let action = rest.get(2).map(|s| s.to_ascii_lowercase());
    let call = SecretCall {
        ctx,
        req,
        caller: &caller,
        vault_key: vault_name.to_ascii_lowercase(),
    };
    let method = &req.method;
    match (collection.as_str(), rest.as_slice(), action.as_deref()) {
        ("secrets", [_], _) if method == Method::GET => secrets::list(&call, world),
        ("secrets", [_, name], _) if method == Method::PUT => secrets::set(&call, world, name),
        ("secrets", [_, name], _) if method == Method::GET => {
            secrets::get(&call, world, name, None)
        }
        ("secrets", [_, name], _) if method == Method::DELETE => {
            deleted::delete(&call, world, name)
        }
        ("secrets", [_, name, _], Some("versions")) if method == Method::GET => {
            secrets::list_versions(&call, world, name)
        }
        ("secrets", [_, name, version], _) if method == Method::GET => {
            secrets::get(&call, world, name, Some(version))
        }
        ("secrets", [_, name, version], _) if method == Method::PATCH => {
            secrets::update(&call, world, name, version)
        }
        ("deletedsecrets", [_], _) if method == Method::GET => deleted::list_deleted(&call, world),
        ("deletedsecrets", [_, name], _) if method == Method::GET => {
            deleted::get_deleted(&call, world, name)
        }
        ("deletedsecrets", [_, name], _) if method == Method::DELETE => {
            deleted::purge(&call, world, name)
        }
        ("deletedsecrets", [_, name, _], Some("recover")) if method == Method::POST => {
            deleted::recover(&call, world, name)
        }
        _ => kv_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "The sandbox's Key Vault serves secrets only; '{} {}' is not one of its operations.",
                req.method, req.path
            ),
        ),
    }
}

/// The 401 challenge: where to get a token (the sandbox's authority) and for which resource.
fn challenge(ctx: &Ctx<'_>, failure: &AuthFailure) -> Resp {
    let message = match failure {
        AuthFailure::Missing => "AKV10000: Request is missing a Bearer or PoP token.".to_owned(),
        AuthFailure::Invalid(TokenError::Expired) => "AKV10032: Token expired.".to_owned(),
        AuthFailure::Invalid(_) => "AKV10000: The token is invalid.".to_owned(),
        AuthFailure::WrongAudience { aud } => {
            format!("AKV10022: Invalid audience. Expected https://vault.azure.net, found: {aud}.")
        }
        AuthFailure::WrongTenant { tid } => format!(
            "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/, found https://sts.windows.net/{tid}/.",
            ids::TENANT_ID
        ),
    };
    kv_error(StatusCode::UNAUTHORIZED, "Unauthorized", message).with_header(
        "www-authenticate",
        format!(
            "Bearer authorization=\"{}/{}\", resource=\"{}\"",
            ctx.authority(),
            ids::TENANT_ID,
            ids::KEY_VAULT_AUDIENCE
        ),
    )
}
