//! Reading one cluster's Kubernetes API for the audit: SecretProviderClasses, every workload
//! kind, Secret metadata and the kubelets' FailedMount Events, across all namespaces, with LIST
//! requests only.
//!
//! Secrets are listed metadata-only (`PartialObjectMetadataList`), with `type=` field
//! selectors to learn which are service-account tokens or Helm releases, so no Secret value is
//! ever transferred.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use super::{FailedMount, KubeData};
use crate::audit::error::AuditError;
use crate::audit::scan::{ClusterObjects, WorkloadKind};
use crate::providers::kube::{KubeError, SpcClient, with_retries};

/// Secret types the scan must recognise, learnt through `type=` field selectors.
const EXCLUDED_SECRET_TYPES: [&str; 2] =
    ["kubernetes.io/service-account-token", "helm.sh/release.v1"];

/// Everything the audit reads from the cluster `cluster` through `client`.
pub async fn read_kubernetes(client: &kube::Client, cluster: &str) -> Result<KubeData, AuditError> {
    let spcs = SpcClient::new(client.clone())
        .list_all()
        .await
        .map_err(|error| {
            AuditError::read(format!("the SecretProviderClasses of `{cluster}`"), error)
        })?;
    let objects = read_objects(client, cluster).await?;
    let failed_mounts = failed_mounts(client, cluster).await?;
    Ok(KubeData {
        spcs,
        objects,
        failed_mounts,
    })
}

/// What the workload scan walks: every workload kind and the Secrets' metadata, across all
/// namespaces.
pub async fn read_objects(
    client: &kube::Client,
    cluster: &str,
) -> Result<ClusterObjects, AuditError> {
    let mut objects = ClusterObjects::default();
    for kind in WorkloadKind::ALL {
        let items = list_all(client, &workload_resource(kind), cluster).await?;
        objects = objects.with(kind, items);
    }
    Ok(objects.with_secrets(secret_metadata(client, cluster).await?))
}

/// The `FailedMount` Events of every namespace (one LIST with a field selector), oldest first.
async fn failed_mounts(
    client: &kube::Client,
    cluster: &str,
) -> Result<Vec<FailedMount>, AuditError> {
    let api: Api<Event> = Api::all(client.clone());
    let params = ListParams::default().fields("reason=FailedMount");
    let list = with_retries(|| api.list(&params)).await.map_err(|error| {
        AuditError::read(
            format!("the events of `{cluster}`"),
            KubeError::from_kube("list", format!("events in `{cluster}`"), error),
        )
    })?;
    let mut mounts: Vec<FailedMount> = list
        .items
        .into_iter()
        .filter(|event| event.involved_object.kind.as_deref() == Some("Pod"))
        .map(|event| FailedMount {
            namespace: event.involved_object.namespace.unwrap_or_default(),
            pod: event.involved_object.name.unwrap_or_default(),
            uid: event.involved_object.uid.unwrap_or_default(),
            message: event.message.unwrap_or_default(),
            count: i64::from(event.count.unwrap_or(1)),
            last_seen: event
                .last_timestamp
                .map(|time| time.0.to_string())
                .unwrap_or_default(),
        })
        .collect();
    mounts.sort_by(|a, b| a.last_seen.cmp(&b.last_seen));
    Ok(mounts)
}

fn workload_resource(kind: WorkloadKind) -> ApiResource {
    let (group, version, plural) = kind.api();
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.as_str()),
        plural,
    )
}

async fn list_all(
    client: &kube::Client,
    resource: &ApiResource,
    cluster: &str,
) -> Result<Vec<Value>, AuditError> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), resource);
    let params = ListParams::default();
    let list = with_retries(|| api.list(&params)).await.map_err(|error| {
        AuditError::read(
            format!("the {} of `{cluster}`", resource.plural),
            KubeError::from_kube("list", format!("{} in `{cluster}`", resource.plural), error),
        )
    })?;
    Ok(list
        .items
        .iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect())
}

/// Secret metadata across all namespaces, with `type` filled in for the excluded types.
async fn secret_metadata(client: &kube::Client, cluster: &str) -> Result<Vec<Value>, AuditError> {
    let api: Api<Secret> = Api::all(client.clone());
    let failed = |error| {
        AuditError::read(
            format!("the Secret metadata of `{cluster}`"),
            KubeError::from_kube("list", format!("Secrets in `{cluster}`"), error),
        )
    };
    let key = |meta: &kube::core::ObjectMeta| {
        (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        )
    };
    let mut typed = BTreeMap::new();
    for secret_type in EXCLUDED_SECRET_TYPES {
        let params = ListParams::default().fields(&format!("type={secret_type}"));
        for item in with_retries(|| api.list_metadata(&params))
            .await
            .map_err(failed)?
        {
            typed.insert(key(&item.metadata), secret_type);
        }
    }
    let params = ListParams::default();
    let all = with_retries(|| api.list_metadata(&params))
        .await
        .map_err(failed)?;
    Ok(all
        .items
        .iter()
        .map(|item| {
            let metadata = serde_json::to_value(&item.metadata).unwrap_or(Value::Null);
            let mut secret = json!({ "metadata": metadata });
            if let Some(secret_type) = typed.get(&key(&item.metadata)) {
                secret["type"] = json!(secret_type);
            }
            secret
        })
        .collect())
}

#[cfg(test)]
#[path = "kubernetes_tests.rs"]
mod tests;
