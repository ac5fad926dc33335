//! The clusters' OIDC issuers (`oidcIssuerProfile.issuerURL`,
//! `https://<location>.oic.prod-aks.azure.com/<tenant>/<guid>/`), reached through the proxy:
//! the discovery document and the signing keys Entra fetches to check a workload's
//! service-account token. The keys are the sandbox's own token keys, which also sign the
//! clusters' service-account tokens ([`service_account_token`]), so those verify against the
//! issuer's JWKS.

use http::{Method, StatusCode};
use serde_json::json;

use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::hosts::AzureHost;
use crate::model::ManagedCluster;
use crate::token::{Audiences, Claims, TokenError};
use crate::world::World;

/// The issuer of service-account tokens of a cluster without the OIDC issuer.
const IN_CLUSTER_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The `iss` of a cluster's service-account tokens: its OIDC issuer URL while the issuer is
/// enabled, else the API server's in-cluster default. It is also the API server's own audience.
pub fn issuer(cluster: Option<&ManagedCluster>) -> String {
    cluster
        .and_then(|managed| managed.properties.get("oidcIssuerProfile"))
        .filter(|profile| profile["enabled"] == true)
        .and_then(|profile| profile["issuerURL"].as_str())
        .unwrap_or(IN_CLUSTER_ISSUER)
        .to_owned()
}

/// A token for the service account `namespace/name` issued by `issuer` (see [`issuer`]) at
/// `ctx.now`, for `audiences`, valid `lifetime_seconds`: what the kubelet projects into pods and
/// the TokenRequest API returns.
pub fn service_account_token(
    ctx: &Ctx<'_>,
    issuer: &str,
    namespace: &str,
    name: &str,
    audiences: Audiences,
    lifetime_seconds: i64,
) -> Result<String, TokenError> {
    ctx.keys.sign(&Claims::assertion(
        issuer.to_owned(),
        format!("system:serviceaccount:{namespace}:{name}"),
        audiences,
        ctx.now.as_second(),
        lifetime_seconds,
    ))
}

pub fn handle(ctx: &Ctx<'_>, world: &World, req: &Req) -> Resp {
    let Some(AzureHost::OidcIssuer { host }) = &req.host else {
        return not_found();
    };
    if req.method != Method::GET {
        return Resp::empty(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(issuer) = world.clusters.values().find_map(|cluster| {
        let url = cluster
            .properties
            .get("oidcIssuerProfile")?
            .get("issuerURL")?
            .as_str()?;
        let path = url.strip_prefix(&format!("https://{host}"))?;
        req.path.starts_with(path).then(|| url.to_owned())
    }) else {
        return not_found();
    };
    let rest = req.path.trim_start_matches('/');
    if rest.ends_with(".well-known/openid-configuration") {
        Resp::json(
            StatusCode::OK,
            &json!({
                "issuer": issuer,
                "jwks_uri": format!("{issuer}openid/v1/jwks"),
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
            }),
        )
    } else if rest.ends_with("openid/v1/jwks") {
        Resp::json(StatusCode::OK, &json!({"keys": [ctx.keys.jwk()]}))
    } else {
        not_found()
    }
}

/// As the issuers' storage answers an unknown path.
fn not_found() -> Resp {
    Resp::empty(StatusCode::NOT_FOUND)
        .with_header("content-type", "text/plain")
        .with_body(b"The specified resource does not exist.".to_vec())
}
