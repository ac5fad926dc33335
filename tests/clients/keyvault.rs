//! The Key Vault client against the sandbox: read, name checks, create, update by PATCH of
//! only what differs (others' tags, properties and access-policy entries survive), soft delete,
//! recover, purge and its refusal under purge protection, and access-policy entries changed one
//! at a time.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use vaultwire::plan::model::{Authorization, Sku};
use vaultwire::providers::azure::keyvault::{
    AccessPolicyEntry, AccessPolicyUpdateKind, KeyVaultError, Permissions, VaultId,
};
use vaultwire::sandbox::ids;

use crate::sandbox_support::{VAULTS_API, vault_path};
use crate::support::{Clients, RG, SUB, demo_cluster, statuses, vault_spec};

/// The object ID of the cluster's kubelet identity: a principal other than the deploying app.
async fn kubelet_object_id(clients: &Clients) -> String {
    let cluster = clients
        .aks()
        .get(&demo_cluster())
        .await
        .unwrap()
        .expect("aks-demo");
    cluster.document["properties"]["identityProfile"]["kubeletidentity"]["objectId"]
        .as_str()
        .expect("the kubelet identity")
        .to_owned()
}

fn entry(object_id: &str, secrets: &[&str]) -> AccessPolicyEntry {
    AccessPolicyEntry {
        tenant_id: ids::TENANT_ID.to_owned(),
        object_id: object_id.to_owned(),
        application_id: None,
        permissions: Permissions::new([], secrets.iter().copied(), []),
    }
}

/// The live entry of `object_id`, if any.
fn entry_of<'a>(
    entries: &'a [AccessPolicyEntry],
    object_id: &str,
) -> Option<&'a AccessPolicyEntry> {
    entries
        .iter()
        .find(|entry| entry.object_id.eq_ignore_ascii_case(object_id))
}

#[tokio::test]
async fn a_vault_is_checked_created_and_read() {
    let clients = Clients::start().await;
    let vaults = clients.session.key_vaults();
    let spec = vault_spec("kv-clients-create", Authorization::Rbac);

    assert!(
        vaults
            .check_name(SUB, "kv-clients-create")
            .await
            .unwrap()
            .available
    );
    assert_eq!(vaults.get(&spec.id).await.unwrap(), None);

    let created = vaults.create(&spec).await.unwrap();
    assert_eq!(created.name, "kv-clients-create");
    assert!(created.rbac_authorization);
    assert_eq!(created.soft_delete_retention_days, 7);
    assert_eq!(created.tags, spec.tags);
    assert_eq!(
        created.vault_uri.as_deref(),
        Some(
            format!(
                "{}/vaults/kv-clients-create/",
                clients.env.sandbox.endpoint()
            )
            .as_str()
        )
    );
    let read = vaults.get(&spec.id).await.unwrap().expect("the vault");
    assert_eq!(read.id, created.id);

    let taken = vaults.check_name(SUB, "kv-clients-create").await.unwrap();
    assert!(!taken.available);
    assert_eq!(taken.reason.as_deref(), Some("AlreadyExists"));
    let invalid = vaults.check_name(SUB, "kv--bad").await.unwrap();
    assert!(!invalid.available);
}

#[tokio::test]
async fn update_patches_only_what_differs_and_keeps_what_others_set() {
    let clients = Clients::start().await;
    let vaults = clients.session.key_vaults();
    let mut spec = vault_spec("kv-clients-update", Authorization::AccessPolicies);
    vaults.create(&spec).await.unwrap();
    let kubelet = kubelet_object_id(&clients).await;
    // Someone else tags the vault, changes a property vaultwire does not manage and grants
    // another principal access.
    let path = format!("{}?{VAULTS_API}", vault_path(RG, "kv-clients-update"));
    clients
        .env
        .arm(
            "PATCH",
            &path,
            Some(&json!({
                "tags": {"owner": "platform", "cost-center": "42"},
                "properties": {"enabledForDeployment": true},
            })),
        )
        .await
        .expect(200);
    let policy = format!(
        "{}/accessPolicies/add?{VAULTS_API}",
        vault_path(RG, "kv-clients-update")
    );
    clients
        .env
        .arm(
            "PUT",
            &policy,
            Some(&json!({"properties": {"accessPolicies": [entry(&kubelet, &["get"]).to_document()]}})),
        )
        .await
        .expect(200);

    spec.sku = Sku::Premium;
    spec.tags.insert("env".to_owned(), "dev".to_owned());
    let live = vaults.get(&spec.id).await.unwrap().unwrap();
    let updated = vaults.update(&spec, live, &BTreeSet::new()).await.unwrap();

    let patches = clients.wire.sent_to("PATCH", "/vaults/kv-clients-update");
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0].body,
        Some(json!({
            "properties": {"sku": {"family": "A", "name": "premium"}, "enableRbacAuthorization": false},
            "tags": {"owner": "platform", "cost-center": "42", "env": "dev"},
        })),
        "only the sku and the merged tags are sent"
    );
    assert!(
        clients
            .wire
            .sent_to("PUT", "/vaults/kv-clients-update")
            .len()
            == 1,
        "the vault is never PUT again after its creation"
    );
    assert_eq!(updated.sku, Sku::Premium);
    assert_eq!(
        updated.tags.get("cost-center").map(String::as_str),
        Some("42")
    );
    assert_eq!(updated.document["properties"]["enabledForDeployment"], true);
    assert!(entry_of(&updated.access_policies, &kubelet).is_some());

    // Nothing differs now: no request at all.
    let again = vaults
        .update(&spec, updated.clone(), &BTreeSet::new())
        .await
        .unwrap();
    assert_eq!(again, updated);
    assert_eq!(
        clients
            .wire
            .sent_to("PATCH", "/vaults/kv-clients-update")
            .len(),
        1
    );

    // A tag vaultwire set and the plan dropped is removed; the foreign one stays.
    spec.tags.remove("env");
    let forgotten = vaults
        .update(&spec, updated, &BTreeSet::from(["env".to_owned()]))
        .await
        .unwrap();
    assert_eq!(
        forgotten
            .tags
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["cost-center", "owner"]
    );
}

#[tokio::test]
async fn a_deleted_vault_is_found_recovered_deleted_again_and_purged() {
    let clients = Clients::start().await;
    let vaults = clients.session.key_vaults();
    let spec = vault_spec("kv-clients-lifecycle", Authorization::Rbac);
    vaults.create(&spec).await.unwrap();

    assert!(vaults.delete(&spec.id).await.unwrap());
    assert_eq!(vaults.get(&spec.id).await.unwrap(), None);
    let deleted = vaults
        .get_deleted(SUB, ids::LOCATION, "kv-clients-lifecycle")
        .await
        .unwrap()
        .expect("soft-deleted");
    assert!(deleted.vault_id.ends_with("/vaults/kv-clients-lifecycle"));
    assert!(!deleted.purge_protection);
    let listed = vaults.list_deleted(SUB).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|vault| vault.name == "kv-clients-lifecycle")
    );

    let refused = vaults.create(&spec).await.unwrap_err();
    assert!(
        matches!(refused, KeyVaultError::SoftDeleted { ref name } if name == "kv-clients-lifecycle"),
        "{refused}"
    );
    assert_eq!(
        refused.to_string(),
        "key vault `kv-clients-lifecycle` is soft-deleted"
    );

    let recovered = vaults.recover(&spec).await.unwrap();
    assert_eq!(recovered.tags, spec.tags);
    assert!(vaults.get(&spec.id).await.unwrap().is_some());

    assert!(vaults.delete(&spec.id).await.unwrap());
    // The purge runs as a long-running operation the client follows through its `Location`
    // (polling while it runs is proven in clients_faults.rs).
    clients
        .env
        .sandbox
        .set_lro_duration(std::time::Duration::from_millis(100));
    vaults
        .purge(SUB, ids::LOCATION, "kv-clients-lifecycle")
        .await
        .unwrap();
    assert_eq!(
        vaults
            .get_deleted(SUB, ids::LOCATION, "kv-clients-lifecycle")
            .await
            .unwrap(),
        None
    );
    let polls = statuses(&clients.journal_of("GET Microsoft.KeyVault/operationResults"));
    assert_eq!(polls.last(), Some(&200), "{polls:?}");

    assert!(!vaults.delete(&spec.id).await.unwrap(), "already gone: 204");
    let nothing = vaults
        .purge(SUB, ids::LOCATION, "kv-clients-lifecycle")
        .await
        .unwrap_err();
    assert!(
        matches!(nothing, KeyVaultError::NotSoftDeleted { .. }),
        "{nothing}"
    );
    let unrecoverable = vaults.recover(&spec).await.unwrap_err();
    assert_eq!(
        unrecoverable.to_string(),
        "no soft-deleted key vault `kv-clients-lifecycle` in `westeurope`"
    );
}

#[tokio::test]
async fn purge_under_purge_protection_is_refused_with_a_clear_error() {
    let clients = Clients::start().await;
    let vaults = clients.session.key_vaults();
    let mut spec = vault_spec("kv-clients-protected", Authorization::Rbac);
    spec.purge_protection = true;
    vaults.create(&spec).await.unwrap();
    vaults.delete(&spec.id).await.unwrap();

    let error = vaults
        .purge(SUB, ids::LOCATION, "kv-clients-protected")
        .await
        .unwrap_err();
    let KeyVaultError::PurgeProtected {
        name,
        scheduled_purge_date,
    } = &error
    else {
        panic!("expected PurgeProtected, got {error}");
    };
    assert_eq!(name, "kv-clients-protected");
    let date = scheduled_purge_date
        .as_deref()
        .expect("the scheduled purge date");
    assert_eq!(
        error.to_string(),
        format!(
            "key vault `kv-clients-protected` has purge protection and cannot be purged before {date}"
        )
    );
    assert!(error.help().unwrap().contains("on_destroy"));
    assert!(
        clients.wire.sent_to("POST", "/purge").is_empty(),
        "refused before asking azure"
    );
    assert!(
        vaults
            .get_deleted(SUB, ids::LOCATION, "kv-clients-protected")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_name_another_resource_group_holds_is_taken() {
    let clients = Clients::start().await;
    let vaults = clients.session.key_vaults();
    vaults
        .create(&vault_spec("kv-clients-taken", Authorization::Rbac))
        .await
        .unwrap();
    let mut elsewhere = vault_spec("kv-clients-taken", Authorization::Rbac);
    elsewhere.id = VaultId::new(SUB, ids::NODE_RESOURCE_GROUP, "kv-clients-taken");
    let error = vaults.create(&elsewhere).await.unwrap_err();
    assert!(matches!(error, KeyVaultError::NameTaken { .. }), "{error}");
    assert!(error.help().is_some());
}

#[tokio::test]
async fn access_policy_entries_are_added_replaced_and_removed_one_at_a_time() {
    let clients = Clients::start().await;
    let vaults = clients.session.key_vaults();
    let spec = vault_spec("kv-clients-policies", Authorization::AccessPolicies);
    vaults.create(&spec).await.unwrap();
    let kubelet = kubelet_object_id(&clients).await;
    let app = ids::CLIENT_OBJECT_ID;
    let policies = async || {
        vaults
            .get(&spec.id)
            .await
            .unwrap()
            .expect("the vault")
            .access_policies
    };

    vaults
        .update_access_policy(
            &spec.id,
            AccessPolicyUpdateKind::Add,
            &entry(&kubelet, &["get"]),
        )
        .await
        .unwrap();
    vaults
        .update_access_policy(
            &spec.id,
            AccessPolicyUpdateKind::Add,
            &entry(app, &["get", "list"]),
        )
        .await
        .unwrap();
    let both = policies().await;
    assert_eq!(both.len(), 2);
    assert_eq!(
        entry_of(&both, app).unwrap().permissions.secrets,
        ["get", "list"]
    );

    vaults
        .update_access_policy(
            &spec.id,
            AccessPolicyUpdateKind::Replace,
            &entry(app, &["set"]),
        )
        .await
        .unwrap();
    let replaced = policies().await;
    assert_eq!(
        entry_of(&replaced, app).unwrap().permissions.secrets,
        ["set"]
    );
    assert_eq!(entry_of(&replaced, &kubelet), entry_of(&both, &kubelet));

    vaults
        .update_access_policy(&spec.id, AccessPolicyUpdateKind::Remove, &entry(app, &[]))
        .await
        .unwrap();
    let removed = policies().await;
    assert_eq!(entry_of(&removed, app), None);
    assert_eq!(entry_of(&removed, &kubelet), entry_of(&both, &kubelet));

    let kinds: Vec<String> = clients
        .wire
        .sent()
        .into_iter()
        .filter(|sent| sent.method == "PUT")
        .map(|sent| sent.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["kv-clients-policies", "add", "add", "replace", "remove"],
        "one vault PUT (the creation), then only accessPolicies/{{kind}}"
    );
    let sent: Vec<Value> = clients
        .wire
        .sent_to("PUT", "/accessPolicies/replace")
        .into_iter()
        .filter_map(|sent| sent.body)
        .collect();
    assert_eq!(
        sent[0]["properties"]["accessPolicies"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "a change carries the one entry it is about"
    );
}
