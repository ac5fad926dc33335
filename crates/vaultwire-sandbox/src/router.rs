//! Which service a request is for — by the Azure host it came for through the proxy, or on
//! the sandbox's own endpoint by the first path segment — and the answer each service gives
//! to an injected fault.
//!
//! URL layout on `https://127.0.0.1:PORT`: `/subscriptions/…` and `/providers/…` are ARM,
//! `/vaults/{name}/…` the Key Vault data plane, `/k8s/clusters/{name}/…` Kubernetes,
//! `/_sandbox/…` the admin API, and `/{tenant}/…` Entra ID. Through the proxy each service
//! has its Azure hostname (`hosts.rs`); Microsoft Graph and the clusters' OIDC issuers are
//! only served there.

use http::StatusCode;
use serde_json::json;

use crate::arm;
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::hosts::AzureHost;
use crate::world::World;
use crate::{entra, graph, keyvault_data, kube_gateway, oidc_issuer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Admin,
    Entra,
    Arm,
    KeyVault,
    Kube,
    Graph,
    OidcIssuer,
}

impl Area {
    pub fn of(req: &Req) -> Area {
        match &req.host {
            Some(AzureHost::Entra) => Area::Entra,
            Some(AzureHost::Arm) => Area::Arm,
            Some(AzureHost::Graph) => Area::Graph,
            Some(AzureHost::Vault { .. }) => Area::KeyVault,
            Some(AzureHost::ApiServer { .. }) => Area::Kube,
            Some(AzureHost::OidcIssuer { .. }) => Area::OidcIssuer,
            None => Area::of_path(&req.path),
        }
    }

    fn of_path(path: &str) -> Area {
        let first = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match first.as_str() {
            "_sandbox" => Area::Admin,
            "subscriptions" | "providers" | "metadata" => Area::Arm,
            "vaults" => Area::KeyVault,
            "k8s" => Area::Kube,
            _ => Area::Entra,
        }
    }

    /// Whether injected faults apply. Entra and the admin API stay reliable so tests can
    /// always authenticate and turn faults off again.
    pub fn faultable(self) -> bool {
        matches!(self, Area::Arm | Area::KeyVault | Area::Kube | Area::Graph)
    }
}

/// Answers a request for any service but the admin API.
pub fn dispatch(ctx: &Ctx<'_>, world: &mut World, req: &Req) -> Resp {
    match Area::of(req) {
        Area::Arm => arm::handle(ctx, world, req),
        Area::KeyVault => keyvault_data::handle(ctx, world, req),
        Area::Kube => kube_gateway::handle(ctx, world, req),
        Area::Graph => graph::handle(ctx, world, req),
        Area::OidcIssuer => oidc_issuer::handle(ctx, world, req),
        Area::Entra | Area::Admin => entra::handle(ctx, world, req),
    }
}

/// A stable name for the request's route, for the journal and counters (also for requests a
/// fault answered).
pub fn label(req: &Req) -> &'static str {
    match Area::of(req) {
        Area::Arm => arm::handler::label(req),
        Area::KeyVault => keyvault_data::handler::label(req),
        Area::Kube => "kubernetes",
        Area::Graph => graph::label(req),
        Area::OidcIssuer => "oidc issuer",
        Area::Admin => "admin",
        Area::Entra => entra::label(req),
    }
}

/// The 429 each service sends when throttling, with `Retry-After`.
pub fn throttled(area: Area, req: &Req, now: jiff::Timestamp) -> Resp {
    let resp = match area {
        Area::Kube => kube_status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        Area::KeyVault => Resp::json(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": {"code": "Throttled", "message": "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"}}),
        ),
        _ => arm::response::error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits",
        ),
    };
    finish_fault(area, req, resp.with_header("retry-after", "1"), now)
}

/// A 500 or 503 in the service's shape.
pub fn server_error(area: Area, req: &Req, status: u16, now: jiff::Timestamp) -> Resp {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = if status == StatusCode::SERVICE_UNAVAILABLE {
        (
            "ServiceUnavailable",
            "The service is temporarily unavailable. Please retry the request.",
        )
    } else {
        (
            "InternalServerError",
            "Encountered internal server error. Please try again.",
        )
    };
    let resp = match area {
        Area::Kube => kube_status(status.as_u16(), code, message),
        Area::KeyVault => Resp::json(
            status,
            &json!({"error": {"code": code, "message": message}}),
        ),
        _ => arm::response::error(status, code, message),
    };
    finish_fault(area, req, resp, now)
}

fn finish_fault(area: Area, req: &Req, mut resp: Resp, now: jiff::Timestamp) -> Resp {
    if area == Area::Arm {
        arm::response::finish(req, &mut resp, now);
    }
    resp
}

fn kube_status(code: u16, reason: &str, message: &str) -> Resp {
    Resp::json(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}),
    )
}
