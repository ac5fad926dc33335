//! Creating, updating and deleting one resource per the engine's request, by kind.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::convert::{
    access_policy_entry, addon_observation, addon_settings, identity_observation,
    role_assignment_attributes, role_assignment_spec, vault_attributes, vault_spec,
};
use super::read::identity_id;
use super::{AzureBackend, provider_error};
use crate::engine::backend::{
    BackendError, ClusterKey, ClusterRef, Delete, IdentityKey, Live, VaultKey, Write,
};
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

fn arm_error(error: crate::providers::azure::ArmError) -> BackendError {
    provider_error(ProviderError::Arm(error))
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
        ResourceKind::Identity => write_identity(backend, &write).await,
        ResourceKind::Federation => write_credential(backend, &write).await,
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
        ResourceKind::Identity => {
            if delete.settings.on_destroy == OnDestroy::Retain {
                return Ok(());
            }
            session
                .msi()
                .delete(&delete.state.id)
                .await
                .map_err(arm_error)
        }
        ResourceKind::Federation => session
            .msi()
            .delete_credential(&delete.state.id)
            .await
            .map_err(arm_error),
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
        derived: live
            .vault_uri
            .iter()
            .map(|uri| ("uri".to_owned(), json!(uri)))
            .collect(),
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
    let mut observation = addon_observation(&cluster, resource_group);
    // As refresh records it: only where the plan manages it.
    if !write.desired.contains_key("workload_identity") {
        observation.attributes.remove("workload_identity");
    }
    let mut derived = BTreeMap::new();
    if let Some(identity) = &observation.identity {
        derived.insert("identity".to_owned(), json!(identity));
    }
    if let Some(issuer) = &observation.issuer {
        derived.insert("issuer".to_owned(), json!(issuer));
    }
    Ok(Live {
        id: observation.cluster_id,
        attributes: observation.attributes,
        derived,
        version: observation.version,
    })
}

async fn write_identity(backend: &AzureBackend, write: &Write) -> Result<Live, BackendError> {
    let desired = &write.desired;
    let key = IdentityKey::new(desired.text("resource_group"), desired.text("name"));
    let tags: BTreeMap<String, String> = desired
        .get("tags")
        .and_then(|tags| serde_json::from_value(tags.clone()).ok())
        .unwrap_or_default();
    let live = backend
        .session()
        .msi()
        .put(&identity_id(backend, &key), desired.text("location"), &tags)
        .await
        .map_err(arm_error)?;
    let observation = identity_observation(&live, desired.text("resource_group"));
    Ok(Live {
        id: observation.id,
        attributes: observation.attributes,
        derived: [
            ("client_id".to_owned(), json!(observation.ids.client_id)),
            (
                "principal_id".to_owned(),
                json!(observation.ids.principal_id),
            ),
        ]
        .into(),
        version: None,
    })
}

async fn write_credential(backend: &AzureBackend, write: &Write) -> Result<Live, BackendError> {
    let desired = &write.desired;
    let key = IdentityKey::new(desired.text("resource_group"), desired.text("identity"));
    let audiences: Vec<String> = desired
        .get("audiences")
        .and_then(|audiences| serde_json::from_value(audiences.clone()).ok())
        .unwrap_or_default();
    let written = backend
        .session()
        .msi()
        .put_credential(
            &identity_id(backend, &key),
            desired.text("name"),
            desired.text("issuer"),
            desired.text("subject"),
            &audiences,
        )
        .await
        .map_err(arm_error)?;
    let mut attributes = desired.clone();
    attributes.insert("issuer".to_owned(), json!(written.issuer));
    attributes.insert("subject".to_owned(), json!(written.subject));
    attributes.insert("audiences".to_owned(), json!(written.audiences));
    Ok(Live {
        id: written.id,
        attributes,
        derived: BTreeMap::new(),
        version: None,
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
        .assign_reporting(&spec, &|wait| write.progress.note(wait.to_string()))
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
