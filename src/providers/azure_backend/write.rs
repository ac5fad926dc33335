//! Creating, updating and deleting one resource per the engine's request, by kind.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::convert::{
    access_policy_entry, addon_observation, addon_settings, role_assignment_attributes,
    role_assignment_spec, vault_attributes, vault_spec,
};
use super::{AzureBackend, provider_error};
use crate::engine::backend::{BackendError, ClusterKey, ClusterRef, Delete, Live, VaultKey, Write};
use crate::plan::address::ResourceKind;
use crate::plan::model::OnDestroy;
use crate::providers::ProviderError;
use crate::providers::azure::aks::{AddonSettings, ClusterId};
use crate::providers::azure::keyvault::{AccessPolicyUpdateKind, KeyVaultError, VaultId};
use crate::providers::kube::SpcClient;
use crate::state::model::AttributeText;
use crate::state::model::Attributes;

fn keyvault_error(error: KeyVaultError) -> BackendError {
    provider_error(ProviderError::KeyVault(error))
}

fn cluster_of(write_cluster: Option<&ClusterRef>, attributes: &Attributes) -> ClusterRef {
    write_cluster
        .cloned()
        .unwrap_or_else(|| ClusterRef::of(attributes, &Attributes::new()))
}

pub async fn write(backend: &AzureBackend, write: Write) -> Result<Live, BackendError> {
    match write.address.kind {
        ResourceKind::Vault => write_vault(backend, &write).await,
        ResourceKind::Addon => write_addon(backend, &write).await,
        ResourceKind::Grant if write.desired.text("mode") == "access-policy" => {
            write_access_policy(backend, &write).await
        }
        ResourceKind::Grant => write_role_assignment(backend, &write).await,
        ResourceKind::Spc => write_spc(backend, &write).await,
    }
}

pub async fn delete(backend: &AzureBackend, delete: Delete) -> Result<(), BackendError> {
    let attributes = &delete.state.attributes;
    let session = backend.session();
    match delete.address.kind {
        ResourceKind::Vault => {
            if delete.settings.on_destroy == OnDestroy::Retain {
                return Ok(());
            }
            let id = VaultId::new(
                session.subscription_id(),
                attributes.text("resource_group"),
                attributes.text("name"),
            );
            let vaults = session.key_vaults();
            vaults.delete(&id).await.map_err(keyvault_error)?;
            if delete.settings.on_destroy == OnDestroy::Purge {
                vaults
                    .purge(
                        session.subscription_id(),
                        attributes.text("location"),
                        attributes.text("name"),
                    )
                    .await
                    .map_err(keyvault_error)?;
            }
            Ok(())
        }
        ResourceKind::Addon => {
            let cluster = cluster_of(delete.cluster.as_ref(), attributes);
            // Named in the error if AKS refuses because SecretProviderClasses remain.
            let known_spcs = spc_names(backend, &cluster).await;
            let id = ClusterId::new(
                session.subscription_id(),
                attributes.text("resource_group"),
                attributes.text("cluster"),
            );
            session
                .aks()
                .set_addon(&id, &AddonSettings::disabled(), &known_spcs)
                .await
                .map_err(|error| provider_error(ProviderError::Aks(error)))?;
            Ok(())
        }
        ResourceKind::Grant if attributes.text("mode") == "access-policy" => {
            let vault = VaultKey::from_id(attributes.text("vault_id"))
                .ok_or_else(|| BackendError::new("the grant's vault ID cannot be read"))?;
            let id = VaultId::new(session.subscription_id(), vault.resource_group, vault.name);
            session
                .key_vaults()
                .update_access_policy(
                    &id,
                    AccessPolicyUpdateKind::Remove,
                    &access_policy_entry(attributes),
                )
                .await
                .map_err(keyvault_error)
        }
        ResourceKind::Grant => {
            session
                .rbac()
                .delete(&delete.state.id)
                .await
                .map_err(|error| provider_error(ProviderError::Rbac(error)))?;
            Ok(())
        }
        ResourceKind::Spc => {
            let cluster = cluster_of(delete.cluster.as_ref(), attributes);
            let client = backend.kube(&cluster).await?;
            SpcClient::new(client)
                .delete(attributes.text("namespace"), attributes.text("name"))
                .await
                .map_err(|error| provider_error(ProviderError::Kube(error)))?;
            Ok(())
        }
    }
}

/// `namespace/name` of every SecretProviderClass in `cluster`, best effort.
async fn spc_names(backend: &AzureBackend, cluster: &ClusterRef) -> Vec<String> {
    let Ok(client) = backend.kube(cluster).await else {
        return Vec::new();
    };
    match SpcClient::new(client).list_all().await {
        Ok(Some(spcs)) => spcs
            .into_iter()
            .map(|spc| format!("{}/{}", spc.namespace, spc.name))
            .collect(),
        _ => Vec::new(),
    }
}

async fn write_vault(backend: &AzureBackend, write: &Write) -> Result<Live, BackendError> {
    let session = backend.session();
    let spec = vault_spec(
        &write.desired,
        session.subscription_id(),
        session.tenant_id(),
    )?;
    let vaults = session.key_vaults();
    let live = match vaults.get(&spec.id).await.map_err(keyvault_error)? {
        Some(live) => {
            // Tags vaultwire set before and the plan dropped are removed; others' are kept.
            let forget: BTreeSet<String> = tag_names(write.prior.as_ref().map(|p| &p.attributes))
                .difference(&tag_names(Some(&write.desired)))
                .cloned()
                .collect();
            vaults.update(&spec, live, &forget).await
        }
        None => match vaults.create(&spec).await {
            Err(KeyVaultError::SoftDeleted { .. }) if write.settings.recover_soft_deleted => {
                vaults.recover(&spec).await
            }
            created => created,
        },
    }
    .map_err(keyvault_error)?;
    Ok(Live {
        id: live.id.clone(),
        attributes: vault_attributes(&live),
        derived: BTreeMap::new(),
        version: None,
    })
}

fn tag_names(attributes: Option<&Attributes>) -> BTreeSet<String> {
    attributes
        .and_then(|attributes| attributes.get("tags"))
        .and_then(Value::as_object)
        .map(|tags| tags.keys().cloned().collect())
        .unwrap_or_default()
}

async fn write_addon(backend: &AzureBackend, write: &Write) -> Result<Live, BackendError> {
    let session = backend.session();
    let resource_group = write.desired.text("resource_group");
    let name = write.desired.text("cluster");
    let id = ClusterId::new(session.subscription_id(), resource_group, name);
    let read = backend.take_cluster(&ClusterKey::new(resource_group, name));
    // The cluster as the operation left it: the add-on's identity and the eTag, as refresh
    // would see them.
    let cluster = session
        .aks()
        .set_addon_from(&id, &addon_settings(&write.desired), &[], read)
        .await
        .map_err(|error| provider_error(ProviderError::Aks(error)))?;
    let observation = addon_observation(&cluster, resource_group);
    let mut derived = BTreeMap::new();
    if let Some(identity) = &observation.identity {
        derived.insert("identity".to_owned(), json!(identity));
    }
    Ok(Live {
        id: observation.cluster_id,
        attributes: observation.attributes,
        derived,
        version: observation.version,
    })
}

async fn write_role_assignment(
    backend: &AzureBackend,
    write: &Write,
) -> Result<Live, BackendError> {
    let session = backend.session();
    let spec = role_assignment_spec(&write.desired, session.subscription_id())?;
    let assigned = session
        .rbac()
        .assign(&spec)
        .await
        .map_err(|error| provider_error(ProviderError::Rbac(error)))?;
    Ok(Live {
        id: assigned.assignment.id.clone(),
        attributes: role_assignment_attributes(&write.desired, &assigned.assignment),
        derived: BTreeMap::new(),
        version: None,
    })
}

async fn write_access_policy(backend: &AzureBackend, write: &Write) -> Result<Live, BackendError> {
    let session = backend.session();
    let vault = VaultKey::from_id(write.desired.text("vault_id"))
        .ok_or_else(|| BackendError::new("the grant's vault ID cannot be read"))?;
    let id = VaultId::new(session.subscription_id(), vault.resource_group, vault.name);
    // `replace` sets the entry's permissions exactly (removing ones the plan dropped);
    // a new entry is added.
    let kind = if write.prior.is_some() {
        AccessPolicyUpdateKind::Replace
    } else {
        AccessPolicyUpdateKind::Add
    };
    session
        .key_vaults()
        .update_access_policy(&id, kind, &access_policy_entry(&write.desired))
        .await
        .map_err(keyvault_error)?;
    Ok(Live {
        id: format!(
            "{}/accessPolicies/{}",
            id.path(),
            write.desired.text("object_id").to_ascii_lowercase()
        ),
        attributes: write.desired.clone(),
        derived: BTreeMap::new(),
        version: None,
    })
}

async fn write_spc(backend: &AzureBackend, write: &Write) -> Result<Live, BackendError> {
    let cluster = cluster_of(write.cluster.as_ref(), &write.desired);
    let client = backend.kube(&cluster).await?;
    let namespace = write.desired.text("namespace");
    let name = write.desired.text("name");
    let manifest = write
        .desired
        .get("manifest")
        .cloned()
        .unwrap_or(Value::Null);
    let live = SpcClient::new(client)
        .apply_manifest(namespace, name, &manifest)
        .await
        .map_err(|error| provider_error(ProviderError::Kube(error)))?;
    let session = backend.session();
    let cluster_id = ClusterId::new(
        session.subscription_id(),
        write.desired.text("resource_group"),
        write.desired.text("cluster"),
    );
    let mut attributes = write.desired.clone();
    attributes.insert("manifest".to_owned(), live.manifest);
    Ok(Live {
        id: format!(
            "{}/namespaces/{namespace}/secretproviderclasses/{name}",
            cluster_id.path()
        ),
        attributes,
        derived: BTreeMap::new(),
        version: live.resource_version,
    })
}
