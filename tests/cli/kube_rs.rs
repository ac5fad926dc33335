//! kube-rs (the client vaultwire uses) against the emulated Kubernetes API: the calls the
//! provider and the apply lock make, and the error classification they rely on.

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{self, Discovery};
use kube::{Client, Config};
use serde_json::json;
use vaultwire::sandbox::kube::KubeCluster;

use crate::kube_server::KubeServer;

fn client(server: &KubeServer) -> Client {
    let url = server.url().parse().expect("a valid URL");
    Client::try_from(Config::new(url)).expect("a client")
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
    let server = KubeServer::start(KubeCluster::seeded("aks-demo"));
    let client = client(&server);
    let missing = discovery::pinned_kind(&client, &gvk())
        .await
        .expect_err("no CRD without the add-on");
    assert!(status(missing).is_not_found());
    server.cluster().set_csi_driver_installed(true);
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
    let server = KubeServer::start(KubeCluster::seeded("aks-demo"));
    let leases: Api<Lease> = Api::namespaced(client(&server), "kube-system");
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
    let server = KubeServer::start(KubeCluster::seeded("aks-demo"));
    server.cluster().set_csi_driver_installed(true);
    let discovery = Discovery::new(client(&server))
        .run_aggregated()
        .await
        .expect("discovered");
    let (resource, capabilities) = discovery.resolve_gvk(&gvk()).expect("the SPC kind");
    assert_eq!(resource.plural, "secretproviderclasses");
    assert_eq!(capabilities.scope, kube::discovery::Scope::Namespaced);
}
