//! kube-rs (the client vaultwire uses) against the sandbox's Kubernetes API over HTTPS, with
//! the sandbox CA and a bearer token from its kubeconfig: the calls the provider and the apply
//! lock make, and the error classification they rely on.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{self, Discovery};
use kube::{Client, Config};
use serde_json::json;

use crate::sandbox_support::{AKS_API, Env, cluster_path, start};

/// A client for `aks-demo` from the sandbox's own kubeconfig.
async fn client(env: &Env) -> Client {
    let yaml = env
        .sandbox
        .kubeconfig(Duration::from_secs(3600))
        .expect("a kubeconfig");
    let kubeconfig = Kubeconfig::from_yaml(&yaml).expect("a valid kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a config");
    Client::try_from(config).expect("a client")
}

/// Enables the Key Vault add-on through ARM, which makes the cluster serve the CRD.
async fn enable_addon(env: &Env) {
    let path = format!("{}?{AKS_API}", cluster_path("rg-demo", "aks-demo"));
    let mut cluster = env.arm("GET", &path, None).await.expect(200).body;
    cluster["properties"]["addonProfiles"]["azureKeyvaultSecretsProvider"] =
        json!({"enabled": true, "config": {"enableSecretRotation": "false"}});
    env.arm("PUT", &path, Some(&cluster)).await.expect(200);
    env.arm("GET", &path, None).await.expect(200);
}

fn gvk() -> GroupVersionKind {
    GroupVersionKind::gvk("secrets-store.csi.x-k8s.io", "v1", "SecretProviderClass")
}

fn spc(resource: &ApiResource, vault: &str) -> DynamicObject {
    DynamicObject::new("payments-db", resource).within("payments").data(json!({
        "spec": {"provider": "azure", "parameters": {"keyvaultName": vault, "objects": "array: []"}}
    }))
}

fn status(error: kube::Error) -> Box<kube::core::Status> {
    match error {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn server_side_apply_of_a_secret_provider_class() {
    let env = start();
    let client = client(&env).await;
    let missing = discovery::pinned_kind(&client, &gvk())
        .await
        .expect_err("no CRD without the add-on");
    assert!(status(missing).is_not_found());
    enable_addon(&env).await;
    let (resource, _) = discovery::pinned_kind(&client, &gvk())
        .await
        .expect("discovered");
    assert_eq!(resource.plural, "secretproviderclasses");

    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "payments", &resource);
    let applied = api
        .patch(
            "payments-db",
            &PatchParams::apply("vaultwire").force(),
            &Patch::Apply(spc(&resource, "kv-one")),
        )
        .await
        .expect("applied");
    assert_eq!(applied.data["spec"]["parameters"]["keyvaultName"], "kv-one");
    let conflict = api
        .patch(
            "payments-db",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(spc(&resource, "kv-two")),
        )
        .await
        .expect_err("a conflict");
    assert!(status(conflict).is_conflict());

    let everywhere: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    let listed = everywhere
        .list(&ListParams::default())
        .await
        .expect("listed");
    assert_eq!(listed.items.len(), 1);

    let deleted = api
        .delete("payments-db", &DeleteParams::background())
        .await
        .expect("deleted");
    assert!(
        deleted.is_left(),
        "custom resources answer a delete with the object"
    );
    assert!(api.get_opt("payments-db").await.expect("a read").is_none());
}

#[tokio::test]
async fn a_lease_is_a_lock_with_optimistic_concurrency() {
    let env = start();
    let leases: Api<Lease> = Api::namespaced(client(&env).await, "kube-system");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "vaultwire-lock"},
        "spec": {"holderIdentity": "run-a", "leaseDurationSeconds": 60},
    }))
    .expect("a lease");
    let held = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect("acquired");
    let lost = leases
        .create(&PostParams::default(), &lease)
        .await
        .expect_err("already held");
    assert!(status(lost).is_already_exists());

    let mut renewed = held.clone();
    renewed.spec.get_or_insert_default().lease_duration_seconds = Some(90);
    leases
        .replace("vaultwire-lock", &PostParams::default(), &renewed)
        .await
        .expect("renewed");
    let stale = leases
        .replace("vaultwire-lock", &PostParams::default(), &held)
        .await
        .expect_err("stale");
    assert!(status(stale).is_conflict());
    let mut unconditional = held;
    unconditional.metadata.resource_version = None;
    let invalid = leases
        .replace("vaultwire-lock", &PostParams::default(), &unconditional)
        .await
        .expect_err("422");
    assert!(status(invalid).is_invalid());
}

#[tokio::test]
async fn aggregated_discovery_finds_every_served_group() {
    let env = start();
    enable_addon(&env).await;
    let discovery = Discovery::new(client(&env).await)
        .run_aggregated()
        .await
        .expect("discovered");
    let (resource, capabilities) = discovery.resolve_gvk(&gvk()).expect("the SPC kind");
    assert_eq!(resource.plural, "secretproviderclasses");
    assert_eq!(capabilities.scope, kube::discovery::Scope::Namespaced);
}
