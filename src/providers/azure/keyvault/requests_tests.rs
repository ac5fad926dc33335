//! The vault requests, inspected as plain values.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use serde_json::json;

use super::*;
use crate::plan::model::{Authorization, NetworkAcls, NetworkBypass, NetworkDefaultAction};
use crate::providers::azure::keyvault::Permissions;
use crate::providers::testing::spec_response;

const SUB: &str = crate::sandbox::ids::SUBSCRIPTION_ID;
const TENANT: &str = crate::sandbox::ids::TENANT_ID;

fn spec() -> VaultSpec {
    VaultSpec {
        id: VaultId::new(SUB, "rg-demo", "kv-vaultwire-demo"),
        location: "westeurope".into(),
        tenant_id: TENANT.into(),
        sku: Sku::Standard,
        authorization: Authorization::Rbac,
        soft_delete_retention_days: 90,
        purge_protection: true,
        public_network_access: PublicNetworkAccess::Disabled,
        network_acls: None,
        tags: BTreeMap::from([("owner".into(), "platform".into())]),
    }
}

/// The live vault that `create_vault(spec())` would produce.
fn live_matching(spec: &VaultSpec) -> LiveVault {
    let mut document = create_vault(spec).body.unwrap();
    document["name"] = json!(spec.id.name);
    LiveVault::from_document(document).unwrap()
}

#[test]
fn create_sends_every_managed_property_explicitly() {
    let request = create_vault(&spec());
    assert_eq!(request.method, Method::PUT);
    assert_eq!(
        request.path,
        format!(
            "/subscriptions/{SUB}/resourceGroups/rg-demo/providers/Microsoft.KeyVault/vaults/kv-vaultwire-demo"
        )
    );
    assert_eq!(request.api_version, "2025-05-01");
    assert_eq!(
        request.body,
        Some(json!({
            "location": "westeurope",
            "tags": {"owner": "platform"},
            "properties": {
                "tenantId": TENANT,
                "sku": {"family": "A", "name": "standard"},
                "enableRbacAuthorization": true,
                "softDeleteRetentionInDays": 90,
                "publicNetworkAccess": "Disabled",
                "accessPolicies": [],
                "enablePurgeProtection": true,
            }
        }))
    );
}

#[test]
fn create_never_sends_purge_protection_false_but_always_sends_rbac() {
    let spec = VaultSpec {
        purge_protection: false,
        authorization: Authorization::AccessPolicies,
        ..spec()
    };
    let body = create_vault(&spec).body.unwrap();
    assert!(body["properties"].get("enablePurgeProtection").is_none());
    assert_eq!(body["properties"]["enableRbacAuthorization"], json!(false));
}

#[test]
fn an_up_to_date_vault_needs_no_request() {
    let spec = spec();
    assert_eq!(
        update_vault(&spec, &live_matching(&spec), &BTreeSet::new()),
        None
    );
}

#[test]
fn update_patches_only_what_differs_and_keeps_access_policies_out() {
    let spec = spec();
    let mut live = live_matching(&spec);
    live.public_network_access = PublicNetworkAccess::Enabled;
    let request = update_vault(&spec, &live, &BTreeSet::new()).unwrap();
    assert_eq!(request.method, Method::PATCH);
    assert_eq!(
        request.body,
        Some(
            json!({"properties": {"publicNetworkAccess": "Disabled", "enableRbacAuthorization": true}})
        )
    );
}

#[test]
fn update_cannot_turn_purge_protection_off() {
    let spec = VaultSpec {
        purge_protection: false,
        ..spec()
    };
    let mut live = live_matching(&spec);
    live.purge_protection = true;
    assert_eq!(update_vault(&spec, &live, &BTreeSet::new()), None);
}

#[test]
fn tags_merge_keeping_foreign_tags_and_dropping_forgotten_ones() {
    let spec = spec();
    let mut live = live_matching(&spec);
    live.tags = BTreeMap::from([
        ("owner".into(), "someone-else".into()),
        ("cost-center".into(), "42".into()),
        ("old".into(), "vaultwire-set-this".into()),
    ]);
    let forget = BTreeSet::from(["old".to_owned()]);
    let request = update_vault(&spec, &live, &forget).unwrap();
    assert_eq!(
        request.body.unwrap()["tags"],
        json!({"cost-center": "42", "owner": "platform"})
    );
}

#[test]
fn firewall_rules_compare_as_sets_and_single_addresses_equal_their_slash_32() {
    let acls = |ips: &[&str], subnet: &str| NetworkAcls {
        default_action: NetworkDefaultAction::Deny,
        bypass: NetworkBypass::AzureServices,
        ip_rules: ips.iter().map(|ip| (*ip).to_owned()).collect(),
        virtual_network_subnet_ids: vec![subnet.to_owned()],
    };
    assert!(same_network_acls(
        &acls(&["1.2.3.4", "10.0.0.0/24"], "/Subscriptions/S/Subnet"),
        &acls(&["10.0.0.0/24", "1.2.3.4/32"], "/subscriptions/s/subnet"),
    ));
    assert!(!same_network_acls(
        &acls(&["1.2.3.4"], "x"),
        &acls(&["1.2.3.5"], "x")
    ));
}

#[test]
fn a_changed_firewall_is_sent_whole() {
    let mut spec = spec();
    spec.network_acls = Some(NetworkAcls {
        default_action: NetworkDefaultAction::Deny,
        bypass: NetworkBypass::None,
        ip_rules: vec!["203.0.113.7".into()],
        virtual_network_subnet_ids: vec![],
    });
    let live = live_matching(&VaultSpec {
        network_acls: None,
        ..spec.clone()
    });
    let body = update_vault(&spec, &live, &BTreeSet::new())
        .unwrap()
        .body
        .unwrap();
    assert_eq!(
        body["properties"]["networkAcls"],
        json!({"defaultAction": "Deny", "bypass": "None", "ipRules": [{"value": "203.0.113.7"}], "virtualNetworkRules": []})
    );
}

#[test]
fn recover_uses_create_mode_recover() {
    let body = recover_vault(&spec()).body.unwrap();
    assert_eq!(body["properties"]["createMode"], "recover");
    assert!(body["properties"].get("accessPolicies").is_none());
}

#[test]
fn deleted_vault_paths_are_per_location() {
    assert_eq!(
        purge_deleted_vault(SUB, "westeurope", "kv-x").path,
        format!(
            "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-x/purge"
        )
    );
    assert_eq!(
        get_deleted_vault(SUB, "westeurope", "kv-x").method,
        Method::GET
    );
    assert_eq!(delete_vault(&spec().id).method, Method::DELETE);
}

#[test]
fn access_policy_changes_name_only_their_own_entry() {
    let entry = AccessPolicyEntry {
        tenant_id: TENANT.into(),
        object_id: "9d4c3b2a-1e0f-4a5b-8c7d-6e5f4a3b2c1d".into(),
        application_id: None,
        permissions: Permissions::new([], ["get"], []),
    };
    let request = update_access_policy(&spec().id, AccessPolicyUpdateKind::Remove, &[entry]);
    assert!(
        request
            .path
            .ends_with("/vaults/kv-vaultwire-demo/accessPolicies/remove")
    );
    assert_eq!(request.method, Method::PUT);
    assert_eq!(
        request.body.unwrap()["properties"]["accessPolicies"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn the_published_update_example_parses_into_a_live_vault() {
    let live = LiveVault::from_document(spec_response("keyvault/updateVault.json", 200)).unwrap();
    assert_eq!(live.name, "sample-vault");
    assert_eq!(live.sku, Sku::Standard);
}
