//! The Key Vault client over a scripted ARM, fed the services' published examples.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::*;
use crate::plan::model::{Authorization, PublicNetworkAccess, Sku};
use crate::providers::testing::{Reply, ScriptedHttp, arm_client, spec_response};

const SUB: &str = "00000000-0000-0000-0000-000000000000";
const VAULT_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sample-resource-group/providers/Microsoft.KeyVault/vaults/sample-vault";
const DELETED_PATH: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.KeyVault/locations/westus/deletedVaults/sample-vault";

fn id() -> VaultId {
    VaultId::new(SUB, "sample-resource-group", "sample-vault")
}

fn spec() -> VaultSpec {
    VaultSpec {
        id: id(),
        location: "westus".into(),
        tenant_id: SUB.into(),
        sku: Sku::Standard,
        authorization: Authorization::AccessPolicies,
        soft_delete_retention_days: 90,
        purge_protection: false,
        public_network_access: PublicNetworkAccess::Enabled,
        network_acls: None,
        tags: BTreeMap::new(),
    }
}

#[tokio::test]
async fn reads_the_published_vault_example() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        VAULT_PATH,
        Reply::json(200, spec_response("keyvault/getVault.json", 200)),
    );
    let (arm, _) = arm_client(&http);
    let live = KeyVaultClient::new(arm).get(&id()).await.unwrap().unwrap();
    assert_eq!(live.name, "sample-vault");
    assert_eq!(live.location, "westus");
    assert_eq!(live.tenant_id, SUB);
    assert_eq!(live.sku, Sku::Standard);
    assert!(!live.rbac_authorization, "absent means false at 2025-05-01");
    assert_eq!(live.soft_delete_retention_days, 90);
    assert_eq!(live.public_network_access, PublicNetworkAccess::Enabled);
    assert_eq!(
        live.vault_uri.as_deref(),
        Some("https://sample-vault.vault.azure.net")
    );
    assert_eq!(live.provisioning_state.as_deref(), Some("Succeeded"));
    assert_eq!(live.access_policies.len(), 1);
    assert!(
        live.access_policies[0]
            .permissions
            .secrets
            .contains(&"get".to_owned())
    );
}

#[tokio::test]
async fn a_missing_vault_reads_as_none() {
    let http = ScriptedHttp::new();
    http.expect(
        "GET",
        VAULT_PATH,
        Reply::arm_error(404, "ResourceNotFound", "not found"),
    );
    let (arm, _) = arm_client(&http);
    assert_eq!(KeyVaultClient::new(arm).get(&id()).await.unwrap(), None);
}

#[tokio::test]
async fn the_published_create_responses_parse() {
    for status in [200, 201] {
        let http = ScriptedHttp::new();
        http.expect(
            "PUT",
            VAULT_PATH,
            Reply::json(status, spec_response("keyvault/createVault.json", status)),
        );
        let (arm, _) = arm_client(&http);
        let live = KeyVaultClient::new(arm).create(&spec()).await.unwrap();
        assert_eq!(live.name, "sample-vault");
        assert_eq!(live.tags, BTreeMap::new());
    }
}

#[tokio::test]
async fn creating_over_a_soft_deleted_vault_says_so_with_help() {
    let http = ScriptedHttp::new();
    http.expect(
        "PUT",
        VAULT_PATH,
        Reply::arm_error(
            409,
            "ConflictError",
            "A vault with the same name already exists in deleted state. You need to either recover or purge existing key vault.",
        ),
    );
    let (arm, _) = arm_client(&http);
    let error = KeyVaultClient::new(arm).create(&spec()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "key vault `sample-vault` is soft-deleted"
    );
    assert!(error.help().unwrap().contains("recover_soft_deleted"));
}

#[tokio::test]
async fn a_name_taken_elsewhere_is_its_own_error() {
    let http = ScriptedHttp::new();
    http.expect(
        "PUT",
        VAULT_PATH,
        Reply::arm_error(
            409,
            "VaultAlreadyExists",
            "The vault name 'sample-vault' is already in use.",
        ),
    );
    let (arm, _) = arm_client(&http);
    let error = KeyVaultClient::new(arm).create(&spec()).await.unwrap_err();
    assert!(matches!(error, KeyVaultError::NameTaken { .. }));
}

#[tokio::test]
async fn purge_is_refused_under_purge_protection_without_asking_azure() {
    let http = ScriptedHttp::new();
    // The published deleted vault has purge protection on.
    http.expect(
        "GET",
        DELETED_PATH,
        Reply::json(200, spec_response("keyvault/getDeletedVault.json", 200)),
    );
    let (arm, _) = arm_client(&http);
    let error = KeyVaultClient::new(arm)
        .purge(SUB, "westus", "sample-vault")
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "key vault `sample-vault` has purge protection and cannot be purged before 2017-04-01T00:00:59Z"
    );
    assert_eq!(http.requests().len(), 1);
}

#[tokio::test]
async fn purge_follows_the_operation_to_its_end() {
    let http = ScriptedHttp::new();
    let mut deleted = spec_response("keyvault/getDeletedVault.json", 200);
    deleted["properties"]["purgeProtectionEnabled"] = json!(false);
    let status = "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.KeyVault/locations/westus/operationResults/p1";
    http.expect("GET", DELETED_PATH, Reply::json(200, deleted))
        .expect("POST", &format!("{DELETED_PATH}/purge"), Reply::empty(202).header("location", status))
        .expect(
            "GET",
            "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.KeyVault/locations/westus/operationResults/p1",
            Reply::empty(200),
        );
    let (arm, _) = arm_client(&http);
    KeyVaultClient::new(arm)
        .purge(SUB, "westus", "sample-vault")
        .await
        .unwrap();
    http.assert_done();
}

#[tokio::test]
async fn deleted_vaults_are_listed_across_pages() {
    let http = ScriptedHttp::new();
    let path = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.KeyVault/deletedVaults";
    http.expect(
        "GET",
        path,
        Reply::json(200, spec_response("keyvault/listDeletedVaults.json", 200)),
    )
    .expect("GET", path, Reply::json(200, json!({"value": []})));
    let (arm, _) = arm_client(&http);
    let deleted = KeyVaultClient::new(arm).list_deleted(SUB).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].name, "vault-agile-drawer-6404");
    assert!(deleted[0].purge_protection);
    assert_eq!(
        deleted[0].deletion_date.as_deref(),
        Some("2017-01-01T00:00:59Z")
    );
}

#[tokio::test]
async fn delete_tells_whether_there_was_a_vault() {
    let http = ScriptedHttp::new();
    http.expect("DELETE", VAULT_PATH, Reply::empty(200)).expect(
        "DELETE",
        VAULT_PATH,
        Reply::empty(204),
    );
    let (arm, _) = arm_client(&http);
    let client = KeyVaultClient::new(arm);
    assert!(client.delete(&id()).await.unwrap());
    assert!(!client.delete(&id()).await.unwrap());
}

#[tokio::test]
async fn recover_brings_the_vault_back_then_converges_it() {
    let http = ScriptedHttp::new();
    let recovered = spec_response("keyvault/getVault.json", 200);
    let mut converged = recovered.clone();
    converged["tags"] = json!({"owner": "platform"});
    http.expect("PUT", VAULT_PATH, Reply::json(200, recovered))
        .expect("PATCH", VAULT_PATH, Reply::json(200, converged));
    let (arm, _) = arm_client(&http);
    let spec = VaultSpec {
        tags: BTreeMap::from([("owner".into(), "platform".into())]),
        ..spec()
    };
    let live = KeyVaultClient::new(arm).recover(&spec).await.unwrap();
    assert_eq!(live.tags.get("owner").map(String::as_str), Some("platform"));
    let requests = http.requests();
    assert_eq!(requests[0].json()["properties"]["createMode"], "recover");
    assert_eq!(requests[1].method, "PATCH");
}

#[tokio::test]
async fn an_unchanged_vault_sends_nothing() {
    let http = ScriptedHttp::new();
    let (arm, _) = arm_client(&http);
    let live = LiveVault::from_document(spec_response("keyvault/getVault.json", 200)).unwrap();
    let spec = spec();
    let same = KeyVaultClient::new(arm)
        .update(&spec, live.clone(), &BTreeSet::new())
        .await
        .unwrap();
    assert_eq!(same, live);
    assert!(http.requests().is_empty());
}

#[test]
fn the_published_access_policy_examples_parse() {
    let body = spec_response("keyvault/updateAccessPoliciesAdd.json", 200);
    let entries = body["properties"]["accessPolicies"].as_array().unwrap();
    let entry = AccessPolicyEntry::from_document(&entries[0]).unwrap();
    assert_eq!(entry.permissions.secrets, ["get"]);
    assert_eq!(entry.permissions.keys, ["encrypt"]);
}

#[tokio::test]
async fn name_availability_is_checked_with_the_published_example() {
    let http = ScriptedHttp::new();
    let example =
        crate::providers::testing::spec_example("keyvault/checkVaultNameAvailability.json");
    http.expect(
        "POST",
        "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.KeyVault/checkNameAvailability",
        Reply::json(200, spec_response("keyvault/checkVaultNameAvailability.json", 200)),
    );
    let (arm, _) = arm_client(&http);
    let availability = KeyVaultClient::new(arm)
        .check_name(SUB, "sample-vault")
        .await
        .unwrap();
    assert!(availability.available);
    assert_eq!(
        http.requests()[0].json(),
        example["parameters"]["vaultName"]
    );
}

#[tokio::test]
async fn every_published_delete_response_is_understood() {
    let example = crate::providers::testing::spec_example("keyvault/deleteVault.json");
    for (status, existed) in [("200", true), ("204", false)] {
        assert!(example["responses"].get(status).is_some());
        let http = ScriptedHttp::new();
        http.expect("DELETE", VAULT_PATH, Reply::empty(status.parse().unwrap()));
        let (arm, _) = arm_client(&http);
        assert_eq!(
            KeyVaultClient::new(arm).delete(&id()).await.unwrap(),
            existed
        );
    }
}

#[tokio::test]
async fn the_published_synchronous_purge_needs_no_polling() {
    let example = crate::providers::testing::spec_example("keyvault/purgeDeletedVault.json");
    assert!(example["responses"].get("200").is_some());
    let http = ScriptedHttp::new();
    let mut deleted = spec_response("keyvault/getDeletedVault.json", 200);
    deleted["properties"]["purgeProtectionEnabled"] = json!(false);
    http.expect("GET", DELETED_PATH, Reply::json(200, deleted))
        .expect("POST", &format!("{DELETED_PATH}/purge"), Reply::empty(200));
    let (arm, timer) = arm_client(&http);
    KeyVaultClient::new(arm)
        .purge(SUB, "westus", "sample-vault")
        .await
        .unwrap();
    assert!(timer.sleeps().is_empty());
}
