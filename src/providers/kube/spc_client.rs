//! SecretProviderClasses in a cluster: server-side apply under field manager `vaultwire`
//! (forced, so vaultwire owns the fields it sets even if someone edited them by hand), get,
//! delete and list, through the static [`spc_api_resource`].
//!
//! Answers are read into [`WireSpc`], which keeps only what vaultwire looks at: the server's
//! `metadata.managedFields`, as large as the rest of the object, is skipped unparsed rather
//! than built into maps (listing ten clusters of fifty was most of a plan's parsing).

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind, Request};
use serde::Deserialize;
use serde_json::Value;

use super::KubeError;
use super::retry::with_retries;
use crate::resources::spc_document::{self, MANAGED_BY, envelope};

/// The field manager of every server-side apply vaultwire makes.
pub const FIELD_MANAGER: &str = "vaultwire";

/// `secrets-store.csi.x-k8s.io/v1` SecretProviderClass, without discovery: the CRD exists only
/// while the add-on is enabled, and the static resource saves a round trip per cluster.
pub fn spc_api_resource() -> ApiResource {
    let gvk = GroupVersionKind::gvk(
        spc_document::GROUP,
        spc_document::VERSION,
        spc_document::KIND,
    );
    ApiResource::from_gvk_with_plural(&gvk, spc_document::PLURAL)
}

/// A SecretProviderClass as the cluster has it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSpc {
    pub namespace: String,
    pub name: String,
    pub resource_version: Option<String>,
    /// Carries vaultwire's `app.kubernetes.io/managed-by` label.
    pub managed_by_vaultwire: bool,
    /// What vaultwire manages of the object, in the shape it applies: `apiVersion`, `kind`,
    /// `metadata` (name, namespace and vaultwire's label only) and `spec` verbatim.
    pub manifest: Value,
}

/// A SecretProviderClass as the API server sends it, reduced to what [`LiveSpc`] needs.
#[derive(Debug, Deserialize)]
struct WireSpc {
    #[serde(default)]
    metadata: WireMetadata,
    #[serde(default)]
    spec: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMetadata {
    name: Option<String>,
    namespace: Option<String>,
    resource_version: Option<String>,
    labels: Option<BTreeMap<String, String>>,
}

/// A list of them (one page: vaultwire lists without a limit).
#[derive(Debug, Deserialize)]
struct WireList {
    #[serde(default)]
    items: Vec<WireSpc>,
}

impl LiveSpc {
    fn from_wire(object: WireSpc) -> Self {
        let WireSpc { metadata, spec } = object;
        let managed_by = metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(MANAGED_BY.0))
            .cloned();
        let managed_by_vaultwire = managed_by.as_deref() == Some(MANAGED_BY.1);
        let WireMetadata {
            name,
            namespace,
            resource_version,
            ..
        } = metadata;
        Self {
            // In the shape vaultwire applies, so desired and live compare field for field.
            manifest: envelope(
                name.as_deref().into(),
                namespace.as_deref().into(),
                managed_by,
                spec,
            ),
            namespace: namespace.unwrap_or_default(),
            name: name.unwrap_or_default(),
            resource_version,
            managed_by_vaultwire,
        }
    }

    /// A string parameter of its `spec.parameters` (read where asked: a refresh lists
    /// hundreds and looks at none).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.manifest
            .get("spec")?
            .get("parameters")?
            .get(name)?
            .as_str()
    }

    /// `spec.provider`.
    pub fn provider(&self) -> Option<&str> {
        self.manifest
            .pointer("/spec/provider")
            .and_then(Value::as_str)
    }

    /// `spec.secretObjects` verbatim (`null` when absent).
    pub fn secret_objects(&self) -> &Value {
        self.manifest
            .pointer("/spec/secretObjects")
            .unwrap_or(&Value::Null)
    }
}

fn describe(namespace: &str, name: &str) -> String {
    format!("SecretProviderClass `{namespace}/{name}`")
}

#[derive(Clone)]
pub struct SpcClient {
    client: kube::Client,
}

impl std::fmt::Debug for SpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpcClient").finish_non_exhaustive()
    }
}

impl SpcClient {
    pub fn new(client: kube::Client) -> Self {
        Self { client }
    }

    fn api(&self, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), namespace, &spc_api_resource())
    }

    /// The requests of one namespace's SecretProviderClasses, or of all namespaces' (`None`).
    fn requests(namespace: Option<&str>) -> Request {
        let resource = spc_api_resource();
        let namespace =
            namespace.map_or_else(String::new, |namespace| format!("namespaces/{namespace}/"));
        Request::new(format!(
            "/apis/{}/{}{}",
            resource.api_version, namespace, resource.plural
        ))
    }

    /// Sends the request `build` makes (again for each retry), reading the answer as `T`.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        build: impl Fn() -> Result<http::Request<Vec<u8>>, kube::core::request::Error>,
    ) -> Result<T, kube::Error> {
        with_retries(|| async {
            let request = build().map_err(kube::Error::BuildRequest)?;
            self.client.request::<T>(request).await
        })
        .await
    }

    /// Creates or updates a SecretProviderClass by server-side apply of its rendered manifest
    /// (see [`crate::resources::spc_document::SpcSpec::manifest`]).
    pub async fn apply_manifest(
        &self,
        namespace: &str,
        name: &str,
        manifest: &Value,
    ) -> Result<LiveSpc, KubeError> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(manifest);
        let requests = Self::requests(Some(namespace));
        let applied: WireSpc = self
            .send(|| requests.patch(name, &params, &patch))
            .await
            .map_err(|error| KubeError::from_kube("apply", describe(namespace, name), error))?;
        Ok(LiveSpc::from_wire(applied))
    }

    pub async fn get(&self, namespace: &str, name: &str) -> Result<Option<LiveSpc>, KubeError> {
        let requests = Self::requests(Some(namespace));
        match self
            .send::<WireSpc>(|| requests.get(name, &Default::default()))
            .await
        {
            Ok(object) => Ok(Some(LiveSpc::from_wire(object))),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(None),
            Err(error) => Err(KubeError::from_kube(
                "read",
                describe(namespace, name),
                error,
            )),
        }
    }

    /// Deletes it; `false` when it was already gone.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<bool, KubeError> {
        let api = self.api(namespace);
        let params = DeleteParams::default();
        match with_retries(|| api.delete(name, &params)).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(false),
            Err(error) => Err(KubeError::from_kube(
                "delete",
                describe(namespace, name),
                error,
            )),
        }
    }

    /// Every SecretProviderClass in the cluster, sorted by namespace and name; `None` when the
    /// cluster does not serve the API (the CSI driver, that is the add-on, is not installed).
    pub async fn list_all(&self) -> Result<Option<Vec<LiveSpc>>, KubeError> {
        let requests = Self::requests(None);
        match self
            .send::<WireList>(|| requests.list(&ListParams::default()))
            .await
        {
            Ok(list) => {
                let mut spcs: Vec<LiveSpc> =
                    list.items.into_iter().map(LiveSpc::from_wire).collect();
                spcs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
                Ok(Some(spcs))
            }
            Err(kube::Error::Api(status)) if status.is_not_found() => Ok(None),
            Err(error) => Err(KubeError::from_kube(
                "list",
                "SecretProviderClasses".to_owned(),
                error,
            )),
        }
    }
}

#[cfg(test)]
#[path = "spc_client_tests.rs"]
mod tests;
