//! The add-on inside managedCluster documents, on the services' published examples.

use serde_json::{Value, json};

use super::*;
use crate::providers::testing::spec_response;

/// The published GET example, plus what a real cluster of the sandbox's kind has besides: the
/// azurepolicy add-on (enabled, with config and identity) and a profile vaultwire has never
/// heard of. Both must survive every change vaultwire makes.
pub(crate) fn cluster_with_policy_addon() -> Value {
    let mut cluster = spec_response("containerservice/ManagedClustersGet.json", 200);
    cluster["properties"]["addonProfiles"] = json!({
        "azurepolicy": {
            "enabled": true,
            "config": {"version": "v2"},
            "identity": {
                "clientId": "11111111-1111-1111-1111-111111111111",
                "objectId": "22222222-2222-2222-2222-222222222222",
                "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/MC_rg1_clustername1_location1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurepolicy-clustername1"
            }
        }
    });
    cluster["properties"]["futureProfileUnknownToVaultwire"] =
        json!({"mode": "Strict", "knobs": [1, 2, 3]});
    cluster
}

fn enable() -> AddonSettings {
    AddonSettings {
        enabled: true,
        secret_rotation: true,
        rotation_poll_interval: "5m".into(),
        workload_identity: false,
    }
}

/// Everything but the add-on entry, to compare documents before and after a change.
fn without_addon(document: &Value) -> Value {
    let mut document = document.clone();
    if let Some(profiles) = document["properties"]["addonProfiles"].as_object_mut() {
        profiles.remove(ADDON_KEY);
    }
    document
}

#[test]
fn enabling_changes_only_the_addon_entry() {
    let before = cluster_with_policy_addon();
    let after = with_addon(&before, &enable());
    assert_eq!(without_addon(&after), without_addon(&before));
    assert_eq!(
        after["properties"]["addonProfiles"][ADDON_KEY],
        json!({"enabled": true, "config": {"enableSecretRotation": "true", "rotationPollInterval": "5m"}})
    );
}

#[test]
fn the_other_addon_and_unknown_fields_survive_enable_then_disable() {
    let original = cluster_with_policy_addon();
    let enabled = with_addon(&original, &enable());
    let disabled = with_addon(&enabled, &AddonSettings::disabled());
    for document in [&enabled, &disabled] {
        assert_eq!(
            document["properties"]["addonProfiles"]["azurepolicy"],
            original["properties"]["addonProfiles"]["azurepolicy"]
        );
        assert_eq!(
            document["properties"]["futureProfileUnknownToVaultwire"],
            original["properties"]["futureProfileUnknownToVaultwire"]
        );
        assert_eq!(document["eTag"], "beywbwei");
        assert_eq!(
            document["properties"]["agentPoolProfiles"],
            original["properties"]["agentPoolProfiles"]
        );
    }
    assert_eq!(
        disabled["properties"]["addonProfiles"][ADDON_KEY],
        json!({"enabled": false})
    );
}

#[test]
fn enabling_keeps_config_keys_vaultwire_does_not_manage() {
    let mut cluster = cluster_with_policy_addon();
    cluster["properties"]["addonProfiles"][ADDON_KEY] =
        json!({"enabled": false, "config": {"someNewKnob": "x", "enableSecretRotation": "false"}});
    let after = with_addon(&cluster, &enable());
    assert_eq!(
        after["properties"]["addonProfiles"][ADDON_KEY]["config"]["someNewKnob"],
        "x"
    );
}

#[test]
fn a_differently_cased_addon_key_is_replaced_by_the_canonical_one() {
    let mut cluster = cluster_with_policy_addon();
    cluster["properties"]["addonProfiles"]["azurekeyvaultsecretsprovider"] =
        json!({"enabled": false});
    let after = with_addon(&cluster, &enable());
    let profiles = after["properties"]["addonProfiles"].as_object().unwrap();
    let keys: Vec<&String> = profiles.keys().collect();
    assert_eq!(keys, [ADDON_KEY, "azurepolicy"]);
}

#[test]
fn the_published_get_example_has_no_addon_and_an_etag() {
    let cluster = LiveCluster::from_document(
        spec_response("containerservice/ManagedClustersGet.json", 200),
        None,
    )
    .unwrap();
    assert_eq!(cluster.name, "clustername1");
    assert_eq!(cluster.location, "location1");
    assert_eq!(cluster.etag.as_deref(), Some("beywbwei"));
    assert_eq!(
        cluster.node_resource_group.as_deref(),
        Some("MC_rg1_clustername1_location1")
    );
    assert_eq!(cluster.provisioning_state.as_deref(), Some("Succeeded"));
    assert_eq!(cluster.addon, LiveAddon::default());
}

#[test]
fn the_published_addon_examples_read_as_enabled_with_rotation() {
    for status in [200, 201] {
        let cluster = LiveCluster::from_document(
            spec_response(
                "containerservice/ManagedClustersCreate_AzureKeyvaultSecretsProvider.json",
                status,
            ),
            Some("header-etag"),
        )
        .unwrap();
        assert!(cluster.addon.enabled);
        assert_eq!(cluster.addon.secret_rotation, Some(true));
        assert_eq!(cluster.addon.rotation_poll_interval.as_deref(), Some("2m"));
        assert_eq!(
            cluster.addon.identity, None,
            "the example shows no identity"
        );
        assert_eq!(cluster.etag.as_deref(), Some("header-etag"));
    }
    let created = spec_response(
        "containerservice/ManagedClustersCreate_AzureKeyvaultSecretsProvider.json",
        201,
    );
    assert_eq!(created["properties"]["provisioningState"], "Creating");
}

#[test]
fn the_published_update_and_tag_examples_parse() {
    for (file, status) in [
        ("containerservice/ManagedClustersCreate_Update.json", 200),
        ("containerservice/ManagedClustersCreate_Update.json", 201),
        ("containerservice/ManagedClustersUpdateTags.json", 200),
    ] {
        let cluster = LiveCluster::from_document(spec_response(file, status), None).unwrap();
        assert_eq!(cluster.name, "clustername1", "{file} {status}");
        assert!(!cluster.addon.enabled);
    }
}

#[test]
fn the_identity_is_read_from_the_addon_profile() {
    let mut cluster = cluster_with_policy_addon();
    cluster["properties"]["addonProfiles"][ADDON_KEY] = json!({
        "enabled": true,
        "config": {"enableSecretRotation": "false", "rotationPollInterval": "2m"},
        "identity": {"clientId": "c", "objectId": "o", "resourceId": "/subscriptions/s/resourcegroups/MC/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-x"}
    });
    let live = LiveCluster::from_document(cluster, None).unwrap();
    assert_eq!(
        live.addon.identity,
        Some(AddonIdentity {
            client_id: "c".into(),
            object_id: "o".into(),
            resource_id: "/subscriptions/s/resourcegroups/MC/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-x".into(),
        })
    );
    assert!(live.addon.matches(&AddonSettings {
        enabled: true,
        secret_rotation: false,
        rotation_poll_interval: "2m".into(),
        workload_identity: false,
    }));
    assert!(!live.addon.matches(&enable()));
    assert!(!live.addon.matches(&AddonSettings::disabled()));
}

#[test]
fn blocking_secret_provider_classes_are_read_from_the_message() {
    assert_eq!(
        blocking_spcs(
            "Cannot disable addon azureKeyvaultSecretsProvider: SecretProviderClasses still exist: shop/shop-api, payments/payments-db. See https://aka.ms/x/y for details."
        ),
        ["payments/payments-db", "shop/shop-api"]
    );
    assert!(blocking_spcs("Operation is not allowed: another/operation").is_empty());
}

#[test]
fn workload_identity_turns_on_the_issuer_and_keeps_everything_else() {
    let mut document = cluster_with_policy_addon();
    document["properties"]
        .as_object_mut()
        .unwrap()
        .remove("oidcIssuerProfile");
    document["properties"]["securityProfile"] = json!({"defender": {"enabled": true}});
    let live = LiveCluster::from_document(document.clone(), None).unwrap();
    assert!(!live.addon.workload_identity);
    assert_eq!(live.addon.issuer, None);
    let settings = AddonSettings {
        workload_identity: true,
        ..enable()
    };
    let sent = with_addon(&document, &settings);
    assert_eq!(sent["properties"]["oidcIssuerProfile"]["enabled"], true);
    assert_eq!(
        sent["properties"]["securityProfile"],
        json!({"defender": {"enabled": true}, "workloadIdentity": {"enabled": true}})
    );
    assert_eq!(
        sent["properties"]["futureProfileUnknownToVaultwire"],
        document["properties"]["futureProfileUnknownToVaultwire"]
    );
    // Without it, the cluster's flags go back as they were.
    let untouched = with_addon(&document, &enable());
    assert!(untouched["properties"].get("oidcIssuerProfile").is_none());
    // Once AKS has turned both on, the add-on matches and the issuer is read.
    let mut on = sent.clone();
    on["properties"]["oidcIssuerProfile"]["issuerURL"] =
        json!("https://westeurope.oic.prod-aks.azure.com/t/g/");
    let live = LiveCluster::from_document(on, None).unwrap();
    assert!(live.addon.workload_identity);
    assert_eq!(
        live.addon.issuer.as_deref(),
        Some("https://westeurope.oic.prod-aks.azure.com/t/g/")
    );
    assert!(live.addon.matches(&settings));
}
