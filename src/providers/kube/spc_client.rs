//! SecretProviderClasses in a cluster: server-side apply under field manager `vaultwire`
//! (forced, so vaultwire owns the fields it sets even if someone edited them by hand), get,
//! delete and list, through the static [`spc_api_resource`].

use std::collections::BTreeMap;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::retry::with_retries;
use super::{FIELD_MANAGER, KubeError, MANAGED_BY, SpcSpec, spc_api_resource};

/// A SecretProviderClass as the cluster has it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSpc {
    pub namespace: String,
    pub name: String,
    pub resource_version: Option<String>,
    pub provider: Option<String>,
    pub parameters: BTreeMap<String, String>,
    /// `spec.secretObjects` verbatim (`null` when absent).
    pub secret_objects: Value,
    /// Carries vaultwire's `app.kubernetes.io/managed-by` label.
    pub managed_by_vaultwire: bool,
    /// What vaultwire manages of the object, in the shape it applies: `apiVersion`, `kind`,
    /// `metadata` (name, namespace and vaultwire's label only) and `spec` verbatim.
    pub manifest: Value,
}

impl LiveSpc {
    fn from_object(object: DynamicObject) -> Self {
        let spec = object.data.get("spec").cloned().unwrap_or(Value::Null);
        let manifest = managed_manifest(&object, &spec);
        let parameters = spec
            .get("parameters")
            .and_then(Value::as_object)
            .map(|parameters| {
                parameters
                    .iter()
                    .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let managed_by_vaultwire = object
            .metadata
            .labels
            .as_ref()
            .and_then(|labels| labels.get(MANAGED_BY.0))
            .is_some_and(|value| value == MANAGED_BY.1);
        Self {
            namespace: object.metadata.namespace.unwrap_or_default(),
            name: object.metadata.name.unwrap_or_default(),
            resource_version: object.metadata.resource_version,
            provider: spec
                .get("provider")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters,
            secret_objects: spec.get("secretObjects").cloned().unwrap_or(Value::Null),
            managed_by_vaultwire,
            manifest,
        }
    }
}

/// The object as vaultwire applies it, so desired and live compare field for field.
fn managed_manifest(object: &DynamicObject, spec: &Value) -> Value {
    let mut metadata = serde_json::Map::new();
    metadata.insert("name".into(), json!(object.metadata.name));
    metadata.insert("namespace".into(), json!(object.metadata.namespace));
    if let Some(value) = object
        .metadata
        .labels
        .as_ref()
        .and_then(|labels| labels.get(MANAGED_BY.0))
    {
        metadata.insert("labels".into(), json!({ MANAGED_BY.0: value }));
    }
    json!({
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": metadata,
        "spec": spec,
    })
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

    /// Creates or updates the SecretProviderClass by server-side apply.
    pub async fn apply(&self, spec: &SpcSpec) -> Result<LiveSpc, KubeError> {
        self.apply_manifest(&spec.namespace, &spec.name, &spec.manifest())
            .await
    }

    /// Server-side applies a rendered manifest (see [`SpcSpec::manifest`]).
    pub async fn apply_manifest(
        &self,
        namespace: &str,
        name: &str,
        manifest: &Value,
    ) -> Result<LiveSpc, KubeError> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let api = self.api(namespace);
        let patch = Patch::Apply(manifest);
        let applied = with_retries(|| api.patch(name, &params, &patch))
            .await
            .map_err(|error| KubeError::from_kube("apply", describe(namespace, name), error))?;
        Ok(LiveSpc::from_object(applied))
    }

    pub async fn get(&self, namespace: &str, name: &str) -> Result<Option<LiveSpc>, KubeError> {
        let api = self.api(namespace);
        with_retries(|| api.get_opt(name))
            .await
            .map(|object| object.map(LiveSpc::from_object))
            .map_err(|error| KubeError::from_kube("read", describe(namespace, name), error))
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
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &spc_api_resource());
        let params = ListParams::default();
        match with_retries(|| api.list(&params)).await {
            Ok(list) => {
                let mut spcs: Vec<LiveSpc> =
                    list.items.into_iter().map(LiveSpc::from_object).collect();
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
