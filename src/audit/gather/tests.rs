//! What [`gather`] reads, through a recording fake source.

use super::gather;
use crate::audit::testing::{FakeSource, applied_world, example_plan, seeded_world};

#[tokio::test]
async fn the_seeded_world_reads_the_cluster_and_vault_but_nothing_of_a_missing_vault() {
    let (plan, _) = example_plan();
    let world = seeded_world(&plan);
    let source = FakeSource::serving(&plan, &world);
    let gathered = gather(&plan, &source).await.unwrap();
    assert_eq!(
        source.reads(),
        [
            "cluster aks-demo",
            "public ips 20.21.107.155",
            "kubernetes aks-demo",
            "vault kv-vaultwire-demo"
        ]
    );
    assert_eq!(gathered, world);
}

#[tokio::test]
async fn an_rbac_vault_read_by_spcs_has_its_assignments_and_secret_names_read() {
    let (plan, _) = example_plan();
    let world = applied_world(&plan);
    let source = FakeSource::serving(&plan, &world);
    let gathered = gather(&plan, &source).await.unwrap();
    assert_eq!(
        source.reads(),
        [
            "cluster aks-demo",
            "public ips 20.21.107.155",
            "kubernetes aks-demo",
            "vault kv-vaultwire-demo",
            "role assignments kv-vaultwire-demo",
            "secret names kv-vaultwire-demo",
        ]
    );
    assert_eq!(gathered, world);
}

#[tokio::test]
async fn a_missing_cluster_is_not_asked_for_its_kubernetes_api() {
    let (plan, _) = example_plan();
    let mut world = seeded_world(&plan);
    world.clusters.get_mut("demo").unwrap().addon = None;
    let source = FakeSource::serving(&plan, &world);
    let gathered = gather(&plan, &source).await.unwrap();
    assert!(
        !source
            .reads()
            .iter()
            .any(|read| read.starts_with("kubernetes"))
    );
    assert_eq!(gathered.clusters["demo"].kubernetes, None);
}
