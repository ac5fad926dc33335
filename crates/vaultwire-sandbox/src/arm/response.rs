//! ARM's response conventions: error bodies, the headers every response carries, and the 401
//! for a missing or wrong token.

use http::StatusCode;
use serde_json::json;

use crate::auth::{ARM_AUDIENCES, AuthFailure};
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::ids;
use crate::token::TokenError;

/// `{"error": {"code", "message"}}`, the shape every ARM resource provider uses.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    Resp::json(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// The 404 for a resource that does not exist.
pub fn resource_not_found(resource_type: &str, name: &str, resource_group: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

pub fn resource_group_not_found(name: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

pub fn invalid_body(detail: impl std::fmt::Display) -> Resp {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

/// The headers ARM adds to every response: request and correlation IDs (the caller's
/// correlation ID echoed), the routing ID and the remaining rate-limit budget.
pub fn finish(req: &Req, resp: &mut Resp, now: jiff::Timestamp) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let correlation = req
        .header("x-ms-correlation-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| request_id.clone());
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    resp.set_header("x-ms-request-id", &request_id);
    resp.set_header("x-ms-correlation-request-id", correlation);
    resp.set_header(
        "x-ms-routing-request-id",
        format!("WESTEUROPE:{stamp}:{request_id}"),
    );
    if let Some(client) = req.header("x-ms-client-request-id") {
        resp.set_header("x-ms-client-request-id", client);
    }
    if req.is_read() {
        resp.set_header("x-ms-ratelimit-remaining-subscription-reads", "249");
        resp.set_header("x-ms-ratelimit-remaining-subscription-global-reads", "3749");
    } else {
        resp.set_header("x-ms-ratelimit-remaining-subscription-writes", "199");
        resp.set_header(
            "x-ms-ratelimit-remaining-subscription-global-writes",
            "2999",
        );
    }
    resp.set_header("cache-control", "no-cache");
    resp.set_header("pragma", "no-cache");
    resp.set_header("expires", "-1");
}

/// ARM's 401 for each way a token can be wrong, with the `WWW-Authenticate` challenge that
/// points clients at the sandbox's authority.
pub fn unauthorized(ctx: &Ctx<'_>, failure: &AuthFailure) -> Resp {
    let (code, message) = match failure {
        AuthFailure::Missing => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_owned(),
        ),
        AuthFailure::Invalid(TokenError::Expired) => (
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time is earlier than current UTC time '{}'.",
                ctx.now
            ),
        ),
        AuthFailure::Invalid(_) => (
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_owned(),
        ),
        AuthFailure::WrongAudience { aud } => (
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences '{}'.",
                ARM_AUDIENCES.join("','")
            ),
        ),
        AuthFailure::WrongTenant { tid } => (
            "InvalidAuthenticationTokenTenant",
            format!(
                "The access token is from the wrong issuer 'https://sts.windows.net/{tid}/'. It must match the tenant 'https://sts.windows.net/{}/' associated with this subscription.",
                ids::TENANT_ID
            ),
        ),
    };
    error(StatusCode::UNAUTHORIZED, code, message.clone()).with_header(
        "www-authenticate",
        format!(
            "Bearer authorization_uri=\"{}/{}\", error=\"invalid_token\", error_description=\"{}\"",
            ctx.authority(),
            ids::TENANT_ID,
            message.replace('"', "'")
        ),
    )
}

/// An ARM timestamp as the services print them (`2026-01-01T00:00:00.0000000Z`).
pub fn timestamp(time: jiff::Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%S.%7fZ").to_string()
}
