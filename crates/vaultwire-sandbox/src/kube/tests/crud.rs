//! Create, read, replace and delete: resourceVersion, uid, creationTimestamp, generation, the
//! Status errors of each failure, and synchronous cascading deletes.

use http::{Method, StatusCode};
use serde_json::json;

use super::super::KubeCluster;
use super::support::{call, get, names};

const SECRETS: &str = "/api/v1/namespaces/payments/secrets";

fn secret(name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {"k": "placeholder"}})
}

#[test]
fn create_assigns_uid_timestamp_resource_version_and_encodes_string_data() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let created = call(Method::POST, SECRETS)
        .json(&secret("app"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    assert_eq!(created["metadata"]["namespace"], "payments");
    assert_eq!(
        created["metadata"]["creationTimestamp"],
        "2026-11-26T12:00:00Z"
    );
    assert_eq!(created["type"], "Opaque");
    assert_eq!(created["data"], json!({"k": "cGxhY2Vob2xkZXI="}));
    assert!(created.get("stringData").is_none());
    assert_eq!(created["metadata"]["uid"].as_str().map(str::len), Some(36));
    assert_eq!(
        created["metadata"]["managedFields"][0]["manager"], "kubectl",
        "the User-Agent names the manager"
    );

    let fetched = get(&format!("{SECRETS}/app"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(fetched, created);
    let list = get(SECRETS).send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(list["kind"], "SecretList");
    assert_eq!(
        list["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert!(
        list["items"][0].get("kind").is_none(),
        "typed list items carry no kind"
    );
}

#[test]
fn resource_versions_move_on_with_every_write_and_not_on_no_ops() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let first = call(Method::POST, SECRETS)
        .json(&secret("a"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let second = call(Method::POST, SECRETS)
        .json(&secret("b"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let rv = |object: &serde_json::Value| {
        object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .parse::<u64>()
            .unwrap_or(0)
    };
    assert!(rv(&second) > rv(&first));
    let replaced = call(Method::PUT, &format!("{SECRETS}/a"))
        .json(&first)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        rv(&replaced),
        rv(&first),
        "an identical PUT changes nothing"
    );
    let mut changed = first.clone();
    changed["data"]["k"] = json!("Y2hhbmdlZA==");
    let replaced = call(Method::PUT, &format!("{SECRETS}/a"))
        .json(&changed)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert!(rv(&replaced) > rv(&second));
    assert_eq!(replaced["metadata"]["uid"], first["metadata"]["uid"]);
}

#[test]
fn a_stale_resource_version_conflicts() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let created = call(Method::POST, SECRETS)
        .json(&secret("app"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let mut update = created.clone();
    update["data"]["k"] = json!("MQ==");
    call(Method::PUT, &format!("{SECRETS}/app"))
        .json(&update)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    update["data"]["k"] = json!("Mg==");
    let conflict = call(Method::PUT, &format!("{SECRETS}/app"))
        .json(&update)
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        conflict,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Operation cannot be fulfilled on secrets \"app\": the object has been modified; please apply your changes to the latest version and try again",
               "reason": "Conflict", "details": {"name": "app", "kind": "secrets"}, "code": 409})
    );
}

#[test]
fn creating_twice_is_already_exists_and_missing_objects_are_not_found() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    call(Method::POST, SECRETS)
        .json(&secret("app"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let again = call(Method::POST, SECRETS)
        .json(&secret("app"))
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(again["reason"], "AlreadyExists");
    assert_eq!(again["message"], "secrets \"app\" already exists");
    let missing = get(&format!("{SECRETS}/nope"))
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(missing["message"], "secrets \"nope\" not found");
    assert_eq!(
        missing["details"],
        json!({"name": "nope", "kind": "secrets"})
    );
    let deployment = get("/apis/apps/v1/namespaces/shop/deployments/nope")
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    assert_eq!(deployment["message"], "deployments.apps \"nope\" not found");
    assert_eq!(
        deployment["details"],
        json!({"name": "nope", "group": "apps", "kind": "deployments"})
    );
}

#[test]
fn creating_in_a_missing_namespace_names_the_namespace() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let answer = call(Method::POST, "/api/v1/namespaces/ghost/secrets")
        .json(&secret("app"))
        .send(&mut cluster);
    let body = answer.expect(StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "namespaces \"ghost\" not found");
    assert_eq!(
        body["details"],
        json!({"name": "ghost", "kind": "namespaces"})
    );
    let listed = get("/api/v1/namespaces/ghost/secrets")
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        names(&listed),
        Vec::<String>::new(),
        "listing a missing namespace is just empty"
    );
}

#[test]
fn invalid_names_and_mismatched_bodies_are_rejected() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let invalid = call(Method::POST, SECRETS)
        .json(&secret("Bad_Name"))
        .send(&mut cluster)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid["reason"], "Invalid");
    assert!(invalid["message"].as_str().unwrap_or_default().starts_with(
        "Secret \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"
    ));
    assert_eq!(invalid["details"]["causes"][0]["field"], "metadata.name");
    let wrong_kind = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let body = call(Method::POST, SECRETS)
        .json(&wrong_kind)
        .send(&mut cluster)
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(body["reason"], "BadRequest");
    let mut other_namespace = secret("x");
    other_namespace["metadata"]["namespace"] = json!("shop");
    call(Method::POST, SECRETS)
        .json(&other_namespace)
        .send(&mut cluster)
        .expect(StatusCode::BAD_REQUEST);
    let mut with_rv = secret("x");
    with_rv["metadata"]["resourceVersion"] = json!("5");
    call(Method::POST, SECRETS)
        .json(&with_rv)
        .send(&mut cluster)
        .expect(StatusCode::BAD_REQUEST);
}

#[test]
fn generate_name_gets_a_deterministic_suffix() {
    let make = || {
        let mut cluster = KubeCluster::seeded("aks-demo");
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "report-"}});
        call(Method::POST, "/api/v1/namespaces/shop/configmaps")
            .json(&body)
            .send(&mut cluster)
            .expect(StatusCode::CREATED)
    };
    let (first, second) = (make(), make());
    let name = first["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        name.starts_with("report-") && name.len() == "report-".len() + 5,
        "{name}"
    );
    assert_eq!(first, second);
}

#[test]
fn dry_run_writes_nothing() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let before = cluster.clone();
    call(Method::POST, &format!("{SECRETS}?dryRun=All"))
        .json(&secret("app"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    call(
        Method::DELETE,
        &format!("{SECRETS}/payments-db-legacy?dryRun=All"),
    )
    .send(&mut cluster)
    .expect(StatusCode::OK);
    get(&format!("{SECRETS}/app"))
        .send(&mut cluster)
        .expect(StatusCode::NOT_FOUND);
    get(&format!("{SECRETS}/payments-db-legacy"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    let listed = |cluster: &mut KubeCluster| get(SECRETS).send(cluster).body();
    let mut before = before;
    assert_eq!(listed(&mut cluster), listed(&mut before));
}

#[test]
fn generation_counts_spec_changes_and_status_belongs_to_its_subresource() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let path = "/apis/apps/v1/namespaces/shop/deployments/shop-web";
    let mut deployment = get(path).send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(deployment["metadata"]["generation"], 1);
    deployment["spec"]["replicas"] = json!(3);
    deployment["status"]["readyReplicas"] = json!(99);
    let updated = call(Method::PUT, path)
        .json(&deployment)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(
        updated["status"]["readyReplicas"], 1,
        "status writes go through /status"
    );
    let mut relabelled = updated.clone();
    relabelled["metadata"]["labels"]["tier"] = json!("front");
    let relabelled = call(Method::PUT, path)
        .json(&relabelled)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        relabelled["metadata"]["generation"], 2,
        "metadata changes keep the generation"
    );
}

#[test]
fn methods_a_path_does_not_support_are_not_allowed() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    for (method, path) in [
        (Method::PUT, SECRETS),
        (Method::POST, "/api/v1/secrets"),
        (
            Method::POST,
            "/api/v1/namespaces/payments/secrets/payments-db-legacy",
        ),
        (Method::POST, "/api/v1"),
    ] {
        let body = call(method.clone(), path)
            .json(&secret("x"))
            .send(&mut cluster)
            .expect(StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["reason"], "MethodNotAllowed", "{method} {path}");
        assert_eq!(
            body["message"],
            "the server does not allow this method on the requested resource"
        );
    }
    let watch = get("/api/v1/pods?watch=true")
        .send(&mut cluster)
        .expect(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        watch["message"],
        "watch is not supported by the vaultwire sandbox"
    );
}

#[test]
fn protobuf_bodies_are_refused_with_a_clear_message() {
    let mut cluster = KubeCluster::seeded("aks-demo");
    let refused = call(Method::POST, SECRETS)
        .raw("application/vnd.kubernetes.protobuf", b"k8s\x00")
        .send(&mut cluster)
        .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("kubectl create -f"),
        "{refused:#}"
    );
}
