//! Table responses (what `kubectl get` prints) and PartialObjectMetadata.

use http::{StatusCode, header};
use serde_json::{Value, json};

use super::super::KubeCluster;
use super::support::{get, with_driver};

fn column_names(table: &Value) -> Vec<&str> {
    table["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|column| column["priority"] == 0)
        .filter_map(|column| column["name"].as_str())
        .collect()
}

/// The cells of the row named `name` (empty when there is none).
fn cells(table: &Value, name: &str) -> Vec<Value> {
    row(table, name)["cells"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn row<'a>(table: &'a Value, name: &str) -> &'a Value {
    table["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["cells"][0] == name))
        .unwrap_or(&Value::Null)
}

#[test]
fn secrets_across_namespaces_show_type_data_and_age_with_namespaced_rows() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let table = get("/api/v1/secrets?limit=500")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(column_names(&table), ["Name", "Type", "Data", "Age"]);
    let registry = row(&table, "registry-creds");
    assert_eq!(
        registry["cells"],
        json!(["registry-creds", "kubernetes.io/dockerconfigjson", 1, "36d"])
    );
    assert_eq!(registry["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(registry["object"]["metadata"]["namespace"], "shop");
}

#[test]
fn pods_show_ready_status_restarts_and_age() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let table = get("/api/v1/pods")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        column_names(&table),
        ["Name", "Ready", "Status", "Restarts", "Age"]
    );
    assert_eq!(
        cells(&table, "shop-web-5c6f8d9b7c-h8pvt")[1..5],
        [json!("1/1"), json!("Running"), json!("0"), json!("36d")]
    );
    assert_eq!(
        cells(&table, "payments-worker")[1..3],
        [json!("0/1"), json!("ContainerCreating")]
    );
    assert_eq!(
        cells(&table, "shop-report-29927640-9rjmv")[1..3],
        [json!("0/1"), json!("Completed")]
    );
}

#[test]
fn workloads_and_custom_resources_have_their_own_columns() {
    let mut cluster = with_driver(KubeCluster::seeded("aks-demo"));
    let deployments = get("/apis/apps/v1/deployments")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        column_names(&deployments),
        ["Name", "Ready", "Up-to-date", "Available", "Age"]
    );
    assert_eq!(row(&deployments, "payments-api")["cells"][1], "1/1");
    let jobs = get("/apis/batch/v1/namespaces/shop/jobs")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        cells(&jobs, "shop-report-29927640")[1..4],
        [json!("Complete"), json!("1/1"), json!("41s")]
    );
    let namespaces = get("/api/v1/namespaces")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        row(&namespaces, "shop")["cells"],
        json!(["shop", "Active", "36d"])
    );
    let spcs = get("/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(column_names(&spcs), ["Name", "Age"]);
}

#[test]
fn one_object_can_be_a_table_and_rows_can_carry_the_whole_object() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let table = get("/api/v1/namespaces/shop/secrets/cache-tls?includeObject=Object")
        .table()
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(table["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(table["rows"][0]["object"]["kind"], "Secret");
    assert_eq!(table["rows"][0]["cells"][2], 2);
}

#[test]
fn partial_object_metadata_lists_only_metadata() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let list = get("/api/v1/namespaces/shop/secrets")
        .header(
            header::ACCEPT,
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
        )
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(list["kind"], "PartialObjectMetadataList");
    assert!(list["items"][0].get("data").is_none());
    assert_eq!(list["items"][0]["kind"], "PartialObjectMetadata");
}
