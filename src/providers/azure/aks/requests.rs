//! The ARM requests for managed clusters, as pure functions.

use std::fmt;

use serde_json::Value;

use crate::providers::azure::arm::{ArmRequest, api_version, resource_path};

const API: &str = api_version::CONTAINER_SERVICE;

/// Where a managed cluster lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
}

impl ClusterId {
    pub fn new(
        subscription_id: impl Into<String>,
        resource_group: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            subscription_id: subscription_id.into(),
            resource_group: resource_group.into(),
            name: name.into(),
        }
    }

    pub fn path(&self) -> String {
        resource_path(
            &self.subscription_id,
            &self.resource_group,
            "Microsoft.ContainerService/managedClusters",
            &self.name,
        )
    }
}

pub fn get_cluster(id: &ClusterId) -> ArmRequest {
    ArmRequest::get(id.path(), API)
}

/// The GET of a public IP address by its resource ID (a cluster's outbound IP).
pub fn get_public_ip(id: &str) -> ArmRequest {
    ArmRequest::get(id, api_version::NETWORK)
}

/// The full PUT of a managed cluster, conditional on `etag` when there is one.
pub fn put_cluster(id: &ClusterId, document: Value, etag: Option<&str>) -> ArmRequest {
    let request = ArmRequest::put(id.path(), API, document);
    match etag {
        Some(etag) => request.with_header("if-match", etag),
        None => request,
    }
}

/// POST `…/listClusterUserCredential`: kubeconfigs for the cluster's users. For AAD-enabled
/// clusters the user entry runs `kubelogin`; vaultwire replaces it with its own Entra token.
pub fn list_cluster_user_credential(id: &ClusterId) -> ArmRequest {
    ArmRequest::post(format!("{}/listClusterUserCredential", id.path()), API)
}

/// A kubeconfig ARM returned. It may hold credentials (client keys, tokens), so `Debug`
/// prints only its size.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterKubeconfig(Vec<u8>);

impl ClusterKubeconfig {
    pub fn new(yaml: Vec<u8>) -> Self {
        Self(yaml)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for ClusterKubeconfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClusterKubeconfig({} bytes)", self.0.len())
    }
}

/// The first kubeconfig of a `CredentialResults` document (`kubeconfigs[0].value`, base64).
pub fn kubeconfig_from_credentials(body: &Value) -> Option<ClusterKubeconfig> {
    let value = body.pointer("/kubeconfigs/0/value")?.as_str()?;
    azure_core::base64::decode(value)
        .ok()
        .filter(|yaml| !yaml.is_empty())
        .map(ClusterKubeconfig)
}
