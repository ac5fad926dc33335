//! The real [`AuditSource`]: ARM through the run's [`AzureSession`], the Key Vault data plane,
//! and each cluster's Kubernetes API.
//!
//! Read-only by construction: ARM GETs (clusters, their outbound public IPs, vaults, role
//! assignments, user-assigned identities and their federated credentials; and the `listClusterUserCredential` action that
//! returns the cluster kubeconfig, unless the plan names a `kube_context`), the Kubernetes
//! LISTs of [`read_kubernetes`], Key Vault's secret *properties* list.

use std::collections::BTreeSet;

use super::{AuditSource, KubeData, LiveClusterFacts, SecretListing, read_kubernetes};
use crate::audit::error::AuditError;
use crate::plan::model::{Addon, Identity, Vault};
use crate::providers::azure::aks::ClusterId;
use crate::providers::azure::keyvault::{LiveVault, VaultId};
use crate::providers::azure::keyvault_data::KeyVaultDataError;
use crate::providers::azure::msi::FederatedCredential;
use crate::providers::azure::msi::LiveIdentity;
use crate::providers::azure::rbac::RoleAssignment;
use crate::providers::{AzureSession, Environment};
use crate::resources::Context;

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

impl AuditSource for AzureAuditSource {
    async fn cluster(&self, addon: &Addon) -> Result<Option<LiveClusterFacts>, AuditError> {
        let id = ClusterId::new(
            self.session.subscription_id(),
            addon.resource_group.value.clone(),
            addon.cluster.value.as_str(),
        );
        let cluster = self.session.aks().get(&id).await.map_err(|error| {
            AuditError::read(format!("aks cluster `{}`", addon.cluster.value), error)
        })?;
        Ok(cluster.map(|cluster| LiveClusterFacts {
            egress: cluster.egress(),
            oidc_issuer: cluster
                .document
                .pointer("/properties/oidcIssuerProfile")
                .filter(|profile| profile.get("enabled") == Some(&serde_json::json!(true)))
                .and_then(|profile| profile.get("issuerURL"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            addon: cluster.addon,
        }))
    }

    async fn federated_credentials(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<FederatedCredential>>, AuditError> {
        self.session
            .msi()
            .federated_credentials(self.session.subscription_id(), client_id)
            .await
            .map_err(|error| {
                AuditError::read(
                    format!("the federated credentials of identity `{client_id}`"),
                    error,
                )
            })
    }

    async fn managed_identity(
        &self,
        identity: &Identity,
    ) -> Result<Option<LiveIdentity>, AuditError> {
        let id = Context::identity_path(
            self.session.subscription_id(),
            &identity.resource_group,
            &identity.name,
        );
        self.session.msi().get(&id).await.map_err(|error| {
            AuditError::read(format!("managed identity `{}`", identity.name.value), error)
        })
    }

    async fn public_ip_addresses(&self, ids: &[String]) -> Result<Vec<String>, AuditError> {
        let aks = self.session.aks();
        let mut addresses = Vec::new();
        for id in ids {
            let address = aks
                .public_ip_address(id)
                .await
                .map_err(|error| AuditError::read(format!("public ip `{id}`"), error))?;
            addresses.extend(address);
        }
        Ok(addresses)
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
        read_kubernetes(&client, cluster).await
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
