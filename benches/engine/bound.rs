//! The critical-path bound of a scenario step: the longest chain of requests that depend on
//! each other, times the sandbox's latency, plus the long-running operation's duration.
//!
//! The chains are what the engine must do, not what it happens to do: each request in them
//! needs the answer of the one before. Requests off the chain (other vaults, clusters and
//! SecretProviderClasses) run beside it and cost nothing here. The sign-in is a request like
//! any other (the sandbox delays Entra's answers too); the Kubernetes (AKS server) token is
//! fetched beside the ARM token at sign-in, so it adds no link.

use std::time::Duration;

use crate::scene::Timing;

/// One link of a chain.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub request: &'static str,
    pub why: &'static str,
    /// Whether the sandbox delays it.
    pub delayed: bool,
    /// Whether a long-running operation runs between this request and the next.
    pub lro: bool,
}

const fn link(request: &'static str, why: &'static str) -> Link {
    Link {
        request,
        why,
        delayed: true,
        lro: false,
    }
}

const SIGN_IN: Link = link(
    "POST /{tenant}/oauth2/v2.0/token",
    "sign in: an ARM token (and the AKS server token beside it)",
);

const CREDENTIAL: Link = link(
    "POST …/managedClusters/{c}/listClusterUserCredential",
    "refresh: the cluster's kubeconfig, needed for any Kubernetes request",
);

const LIST_SPCS: Link = link(
    "GET /k8s/clusters/{c}/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses",
    "refresh: the cluster's SecretProviderClasses (one list)",
);

/// A no-op plan: sign in, then the deepest read chain. (A vault GET, cluster GET and
/// role-assignment list are one request each, beside it.)
pub const NO_OP_PLAN: &[Link] = &[SIGN_IN, CREDENTIAL, LIST_SPCS];

/// Apply from scratch: the plan's reads, the lock, then the add-on → grant →
/// SecretProviderClass chain (the vault PUT runs beside the add-on), then the unlock.
pub const APPLY_FROM_SCRATCH: &[Link] = &[
    SIGN_IN,
    CREDENTIAL,
    LIST_SPCS,
    link(
        "…/k8s/clusters/{c}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
        "lock: take the Lease (one write)",
    ),
    Link {
        request: "PUT …/managedClusters/{c}",
        why: "enable the add-on; the operation then runs (LRO)",
        delayed: true,
        lro: true,
    },
    link(
        "GET …/locations/{l}/operations/{id}",
        "the operation's status: Succeeded",
    ),
    link(
        "GET …/managedClusters/{c}",
        "the cluster after the operation: the add-on identity",
    ),
    link(
        "PUT …/vaults/{v}/providers/Microsoft.Authorization/roleAssignments/{id}",
        "grant the add-on identity on the vault",
    ),
    link(
        "PATCH /k8s/clusters/{c}/apis/secrets-store.csi.x-k8s.io/v1/namespaces/{ns}/secretproviderclasses/{name}",
        "server-side apply of each SecretProviderClass (all at once)",
    ),
    link(
        "…/k8s/clusters/{c}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/vaultwire-lock",
        "unlock: release the Lease (one write)",
    ),
];

/// Delayed requests in `chain`.
pub fn delayed_requests(chain: &[Link]) -> u32 {
    chain
        .iter()
        .filter(|link| link.delayed)
        .count()
        .try_into()
        .unwrap_or(u32::MAX)
}

/// `delayed requests × latency + LRO time`.
pub fn bound(chain: &[Link], timing: Timing) -> Duration {
    let lros = chain.iter().filter(|link| link.lro).count();
    timing.latency * delayed_requests(chain) + timing.lro * u32::try_from(lros).unwrap_or(u32::MAX)
}

/// The chain as a Markdown list, for docs/benchmarks.md.
pub fn describe(chain: &[Link]) -> String {
    chain
        .iter()
        .enumerate()
        .map(|(index, link)| {
            let cost = match (link.delayed, link.lro) {
                (false, _) => "0".to_owned(),
                (true, false) => "L".to_owned(),
                (true, true) => "L, then T".to_owned(),
            };
            format!(
                "{}. `{}` — {} ({cost})\n",
                index + 1,
                link.request,
                link.why
            )
        })
        .collect()
}
