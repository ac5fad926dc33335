//! The real [`AuditSource`]: ARM through the run's [`AzureSession`], the Key Vault data plane,
//! and each cluster's Kubernetes API.
//!
//! Read-only by construction: ARM GETs (and the `listClusterUserCredential` action that
//! returns the cluster kubeconfig, unless the plan names a `kube_context`), Kubernetes LISTs,
//! Key Vault's secret *properties* list. Secrets are listed metadata-only
//! (`PartialObjectMetadataList`), with field selectors to learn which are service-account
//! tokens or Helm releases, so no Secret value is ever transferred.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use super::{AuditSource, KubeData, SecretListing};
use crate::audit::error::AuditError;
use crate::audit::scan::{ClusterObjects, WorkloadKind};
use crate::plan::model::{Addon, Vault};
use crate::providers::azure::aks::{ClusterId, LiveAddon};
use crate::providers::azure::keyvault::{LiveVault, VaultId};
use crate::providers::azure::keyvault_data::KeyVaultDataError;
use crate::providers::azure::rbac::RoleAssignment;
use crate::providers::kube::{KubeError, SpcClient};
use crate::providers::{AzureSession, Environment};

/// Secret types the scan must recognise, learnt through `type=` field selectors.
const EXCLUDED_SECRET_TYPES: [&str; 2] =
    ["kubernetes.io/service-account-token", "helm.sh/release.v1"];

/// Reads Azure and the clusters of one plan's target.
#[derive(Debug)]
pub struct AzureAuditSource {
    session: AzureSession,
    env: Environment,
}

impl AzureAuditSource {
    pub fn new(session: AzureSession, env: Environment) -> Self {
        Self { session, env }
    }
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
    let list = api.list(&ListParams::default()).await.map_err(|error| {
        let object = format!("{} in `{cluster}`", resource.plural);
        AuditError::read(
            format!("the {} of `{cluster}`", resource.plural),
            KubeError::from_kube("list", object, error),
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
    let mut typed = std::collections::BTreeMap::new();
    for secret_type in EXCLUDED_SECRET_TYPES {
        let params = ListParams::default().fields(&format!("type={secret_type}"));
        for item in api.list_metadata(&params).await.map_err(failed)? {
            typed.insert(key(&item.metadata), secret_type);
        }
    }
    let all = api
        .list_metadata(&ListParams::default())
        .await
        .map_err(failed)?;
    Ok(all
        .items
        .iter()
        .map(|item| {
            let mut secret =
                json!({"metadata": serde_json::to_value(&item.metadata).unwrap_or(Value::Null)});
            if let Some(secret_type) = typed.get(&key(&item.metadata)) {
                secret["type"] = json!(secret_type);
            }
            secret
        })
        .collect())
}

impl AuditSource for AzureAuditSource {
    async fn addon(&self, addon: &Addon) -> Result<Option<LiveAddon>, AuditError> {
        let id = ClusterId::new(
            self.session.subscription_id(),
            addon.resource_group.value.clone(),
            addon.cluster.value.as_str(),
        );
        let cluster = self.session.aks().get(&id).await.map_err(|error| {
            AuditError::read(format!("aks cluster `{}`", addon.cluster.value), error)
        })?;
        Ok(cluster.map(|cluster| cluster.addon))
    }

    async fn kubernetes(&self, addon: &Addon) -> Result<KubeData, AuditError> {
        let cluster = addon.cluster.value.as_str();
        let what = || format!("the kubernetes api of `{cluster}`");
        let connection = self
            .session
            .cluster_connection(addon, &self.env)
            .await
            .map_err(|error| AuditError::read(what(), error))?;
        let client = connection
            .client()
            .await
            .map_err(|error| AuditError::read(what(), error))?;
        let spcs = SpcClient::new(client.clone())
            .list_all()
            .await
            .map_err(|error| {
                AuditError::read(format!("the SecretProviderClasses of `{cluster}`"), error)
            })?;
        let mut objects = ClusterObjects::default();
        for kind in WorkloadKind::ALL {
            let items = list_all(&client, &workload_resource(kind), cluster).await?;
            objects = objects.with(kind, items);
        }
        let objects = objects.with_secrets(secret_metadata(&client, cluster).await?);
        Ok(KubeData { spcs, objects })
    }

    async fn vault(&self, vault: &Vault) -> Result<Option<LiveVault>, AuditError> {
        let id = VaultId::new(
            self.session.subscription_id(),
            vault.resource_group.value.clone(),
            vault.name.value.clone(),
        );
        self.session
            .key_vaults()
            .get(&id)
            .await
            .map_err(|error| AuditError::read(format!("key vault `{}`", vault.name.value), error))
    }

    async fn role_assignments(&self, vault: &LiveVault) -> Result<Vec<RoleAssignment>, AuditError> {
        self.session
            .rbac()
            .list_at_scope(&vault.id)
            .await
            .map_err(|error| {
                AuditError::read(format!("the role assignments of `{}`", vault.name), error)
            })
    }

    async fn secret_names(&self, vault: &LiveVault) -> Result<SecretListing, AuditError> {
        let what = || format!("the secrets of key vault `{}`", vault.name);
        let Some(uri) = vault.vault_uri.as_deref() else {
            return Ok(SecretListing::NotRead);
        };
        let client = self
            .session
            .secrets(uri)
            .map_err(|error| AuditError::read(what(), error))?;
        match client.list_secret_properties().await {
            Ok(secrets) => Ok(SecretListing::Listed(
                secrets
                    .into_iter()
                    .map(|secret| secret.name.to_ascii_lowercase())
                    .collect::<BTreeSet<_>>(),
            )),
            Err(KeyVaultDataError::Request(error)) if error.status() == Some(403) => {
                Ok(SecretListing::Denied {
                    reason: error
                        .message()
                        .map(|message| message.lines().next().unwrap_or_default().to_owned())
                        .unwrap_or_else(|| "HTTP 403".to_owned()),
                })
            }
            Err(error) => Err(AuditError::read(what(), error)),
        }
    }
}
