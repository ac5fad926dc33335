//! `/k8s/clusters/{cluster}/…`, or any path on a cluster's API server FQDN through the proxy:
//! checks the bearer token (audience: the AKS server application) and hands the rest of the
//! request to that cluster's [`KubeCluster`], with the signer of its service-account tokens
//! (the cluster's issuer, the sandbox's keys). Kubernetes semantics live entirely in `kube/`.

use http::StatusCode;

use crate::auth::{Audience, authenticate};
use crate::context::Ctx;
use crate::exchange::{Req, Resp};
use crate::hosts::AzureHost;
use crate::kube::{KubeCluster, KubeRequest, KubeResponse, TokenSigner};
use crate::model::ManagedCluster;
use crate::token::Audiences;
use crate::world::World;

pub fn handle(ctx: &Ctx<'_>, world: &mut World, req: &Req) -> Resp {
    if authenticate(ctx, req, Audience::Aks).is_err() {
        return from_kube(KubeCluster::unauthorized());
    }
    let (name, rest) = match &req.host {
        Some(AzureHost::ApiServer { fqdn }) => match cluster_with_fqdn(world, fqdn) {
            Some(name) => (name, req.path.clone()),
            None => return not_found(fqdn),
        },
        _ => {
            // `/k8s/clusters/{name}{rest}`: split on the raw path so `rest` keeps its encoding.
            let mut parts = req.path.splitn(5, '/').skip(3);
            let name = parts.next().unwrap_or_default();
            let rest = parts
                .next()
                .map_or_else(|| "/".to_owned(), |rest| format!("/{rest}"));
            let name = percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .to_ascii_lowercase();
            (name, rest)
        }
    };
    let signer = Signer {
        ctx,
        cluster: world.clusters.get(&name),
    };
    let Some(cluster) = world.kube.get_mut(&name) else {
        return not_found(&name);
    };
    let request = KubeRequest {
        method: &req.method,
        path: &rest,
        query: &req.query,
        headers: &req.headers,
        body: &req.body,
    };
    from_kube(cluster.handle_with_tokens(&request, ctx.now, &signer))
}

/// A cluster's service-account tokens, as `oidc_issuer` signs them.
struct Signer<'a> {
    ctx: &'a Ctx<'a>,
    cluster: Option<&'a ManagedCluster>,
}

impl TokenSigner for Signer<'_> {
    fn issuer(&self) -> String {
        crate::oidc_issuer::issuer(self.cluster)
    }

    fn sign(
        &self,
        namespace: &str,
        name: &str,
        audiences: &[String],
        seconds: i64,
    ) -> Option<String> {
        let audiences = Audiences::many(audiences.to_vec());
        crate::oidc_issuer::service_account_token(
            self.ctx,
            &self.issuer(),
            namespace,
            name,
            audiences,
            seconds,
        )
        .ok()
    }
}

/// The name of the cluster (its key in `world.kube`) whose API server is `fqdn`, as ARM
/// reports it in `properties.fqdn` (or `azurePortalFQDN`).
fn cluster_with_fqdn(world: &World, fqdn: &str) -> Option<String> {
    world.clusters.values().find_map(|cluster| {
        ["fqdn", "azurePortalFQDN"]
            .iter()
            .filter_map(|key| cluster.properties.get(*key).and_then(|v| v.as_str()))
            .any(|name| name.eq_ignore_ascii_case(fqdn))
            .then(|| cluster.name.to_ascii_lowercase())
    })
}

fn from_kube(response: KubeResponse) -> Resp {
    Resp {
        status: response.status,
        headers: response
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        body: response.body,
    }
}

fn not_found(name: &str) -> Resp {
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": format!("the sandbox has no cluster named \"{name}\""),
        "reason": "NotFound",
        "code": 404,
    });
    Resp::json(StatusCode::NOT_FOUND, &body)
}
