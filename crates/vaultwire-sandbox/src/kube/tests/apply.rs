//! Server-side apply: create when missing, managedFields, no-op re-apply, conflicts with their
//! exact message, force, removal of fields a manager stops applying, atomic lists, and the
//! SecretProviderClass schema under each `fieldValidation`.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::KubeCluster;
use super::support::{SPC_PATH, apply, call, get, spc, with_driver};

fn cluster() -> KubeCluster {
    with_driver(KubeCluster::seeded("aks-demo"))
}

fn db() -> String {
    format!("{SPC_PATH}/payments-db")
}

fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            (
                entry["manager"].as_str().unwrap_or_default().to_owned(),
                entry["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn fields_of(object: &Value, manager: &str) -> Value {
    object["metadata"]["managedFields"]
        .as_array()
        .and_then(|entries| entries.iter().find(|entry| entry["manager"] == manager))
        .map(|entry| entry["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn apply_creates_a_missing_object_with_apply_managed_fields() {
    let mut cluster = cluster();
    let created = apply(&db(), "vaultwire", true, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    assert_eq!(created["metadata"]["generation"], 1);
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{
            "manager": "vaultwire", "operation": "Apply", "apiVersion": "secrets-store.csi.x-k8s.io/v1",
            "time": "2026-11-26T12:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:parameters": {"f:keyvaultName": {}, "f:objects": {}, "f:tenantId": {}}, "f:provider": {}}},
        }])
    );
    assert_eq!(
        cluster.secret_provider_classes(),
        [("payments".to_owned(), "payments-db".to_owned())]
    );
}

#[test]
fn re_applying_the_same_configuration_changes_nothing() {
    let mut cluster = cluster();
    let first = apply(&db(), "vaultwire", true, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let again = apply(&db(), "vaultwire", true, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(again, first);
    let changed = apply(&db(), "vaultwire", true, &spc("payments-db", "kv-two"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_ne!(
        changed["metadata"]["resourceVersion"],
        first["metadata"]["resourceVersion"]
    );
    assert_eq!(changed["metadata"]["generation"], 2);
    assert_eq!(changed["spec"]["parameters"]["keyvaultName"], "kv-two");
}

#[test]
fn another_manager_changing_an_owned_field_conflicts_with_the_real_message() {
    let mut cluster = cluster();
    apply(&db(), "vaultwire", false, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let conflict = apply(&db(), "other-mgr", false, &spc("payments-db", "kv-two"))
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        conflict,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Apply failed with 1 conflict: conflict with \"vaultwire\": .spec.parameters.keyvaultName",
               "reason": "Conflict",
               "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"vaultwire\"", "field": ".spec.parameters.keyvaultName"}]},
               "code": 409})
    );
    let mut two_fields = spc("payments-db", "kv-two");
    two_fields["spec"]["provider"] = json!("vault");
    let several = apply(&db(), "other-mgr", false, &two_fields)
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        several["message"],
        "Apply failed with 2 conflicts: conflicts with \"vaultwire\":\n- .spec.provider\n- .spec.parameters.keyvaultName"
    );
}

#[test]
fn applying_the_same_value_shares_ownership_and_force_takes_it_over() {
    let mut cluster = cluster();
    apply(&db(), "vaultwire", false, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let shared = apply(&db(), "other-mgr", false, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        managers(&shared),
        [
            ("other-mgr".into(), "Apply".into()),
            ("vaultwire".into(), "Apply".into())
        ]
    );

    let forced = apply(&db(), "other-mgr", true, &spc("payments-db", "kv-two"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(forced["spec"]["parameters"]["keyvaultName"], "kv-two");
    assert!(
        fields_of(&forced, "vaultwire")["f:spec"]["f:parameters"]
            .get("f:keyvaultName")
            .is_none()
    );
    assert!(
        fields_of(&forced, "other-mgr")["f:spec"]["f:parameters"]
            .get("f:keyvaultName")
            .is_some()
    );
}

#[test]
fn fields_a_manager_stops_applying_are_removed_unless_someone_else_owns_them() {
    let mut cluster = cluster();
    let mut with_sync = spc("payments-db", "kv-one");
    with_sync["spec"]["parameters"]["cloudName"] = json!("AzurePublicCloud");
    with_sync["spec"]["secretObjects"] = json!([{"secretName": "payments-db", "type": "Opaque", "data": [{"objectName": "db-password", "key": "password"}]}]);
    apply(&db(), "vaultwire", false, &with_sync)
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let mut co_owned = spc("payments-db", "kv-one");
    co_owned["spec"]["parameters"]["cloudName"] = json!("AzurePublicCloud");
    apply(&db(), "other-mgr", false, &co_owned)
        .send(&mut cluster)
        .expect(StatusCode::OK);

    let pruned = apply(&db(), "vaultwire", false, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert!(
        pruned["spec"].get("secretObjects").is_none(),
        "dropped: {pruned:#}"
    );
    assert_eq!(
        pruned["spec"]["parameters"]["cloudName"], "AzurePublicCloud",
        "kept: other-mgr owns it"
    );
}

#[test]
fn lists_of_custom_resources_are_atomic() {
    let mut cluster = cluster();
    let mut two = spc("payments-db", "kv-one");
    two["spec"]["secretObjects"] = json!([{"secretName": "a"}, {"secretName": "b"}]);
    let created = apply(&db(), "vaultwire", false, &two)
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    assert_eq!(
        fields_of(&created, "vaultwire")["f:spec"]["f:secretObjects"],
        json!({})
    );
    let mut one = spc("payments-db", "kv-one");
    one["spec"]["secretObjects"] = json!([{"secretName": "b"}]);
    let replaced = apply(&db(), "vaultwire", false, &one)
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(
        replaced["spec"]["secretObjects"],
        json!([{"secretName": "b"}])
    );
}

#[test]
fn fields_owned_by_an_update_name_the_manager_with_its_api_version() {
    let mut cluster = cluster();
    call(
        Method::POST,
        &format!("{SPC_PATH}?fieldManager=kubectl-create"),
    )
    .json(&spc("payments-db", "kv-one"))
    .send(&mut cluster)
    .expect(StatusCode::CREATED);
    let conflict = apply(&db(), "vaultwire", false, &spc("payments-db", "kv-two"))
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        conflict["message"],
        "Apply failed with 1 conflict: conflict with \"kubectl-create\" using secrets-store.csi.x-k8s.io/v1: .spec.parameters.keyvaultName"
    );
}

#[test]
fn apply_requests_are_checked_before_anything_is_written() {
    let mut cluster = cluster();
    let no_manager = call(Method::PATCH, &db())
        .raw(
            "application/apply-patch+yaml",
            spc("payments-db", "kv").to_string().as_bytes(),
        )
        .send(&mut cluster)
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(no_manager["reason"], "BadRequest");
    let mut with_fields = spc("payments-db", "kv");
    with_fields["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Apply"}]);
    apply(&db(), "vaultwire", false, &with_fields)
        .send(&mut cluster)
        .expect(StatusCode::BAD_REQUEST);
    apply(&db(), "vaultwire", false, &spc("other-name", "kv"))
        .send(&mut cluster)
        .expect(StatusCode::BAD_REQUEST);
    let ghost = apply(
        "/apis/secrets-store.csi.x-k8s.io/v1/namespaces/ghost/secretproviderclasses/payments-db",
        "vaultwire",
        false,
        &json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass", "metadata": {"name": "payments-db"}}),
    )
    .send(&mut cluster)
    .expect(StatusCode::NOT_FOUND);
    assert_eq!(ghost["message"], "namespaces \"ghost\" not found");
    assert!(cluster.secret_provider_classes().is_empty());
}

#[test]
fn a_resource_version_in_the_applied_configuration_is_a_precondition() {
    let mut cluster = cluster();
    let created = apply(&db(), "vaultwire", false, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let mut stale = spc("payments-db", "kv-two");
    stale["metadata"]["resourceVersion"] = json!("1");
    let conflict = apply(&db(), "vaultwire", true, &stale)
        .send(&mut cluster)
        .expect(StatusCode::CONFLICT);
    assert_eq!(
        conflict["message"],
        "Operation cannot be fulfilled on secretproviderclasses.secrets-store.csi.x-k8s.io \"payments-db\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let mut current = spc("payments-db", "kv-two");
    current["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    apply(&db(), "vaultwire", true, &current)
        .send(&mut cluster)
        .expect(StatusCode::OK);
}

#[test]
fn yaml_bodies_and_dry_runs_are_accepted() {
    let mut cluster = cluster();
    let yaml = "apiVersion: secrets-store.csi.x-k8s.io/v1\nkind: SecretProviderClass\nmetadata:\n  name: payments-db\nspec:\n  provider: azure\n";
    let created = call(
        Method::PATCH,
        &format!("{}?fieldManager=vaultwire&dryRun=All", db()),
    )
    .raw("application/apply-patch+yaml", yaml.as_bytes())
    .send(&mut cluster)
    .expect(StatusCode::CREATED);
    assert_eq!(created["spec"]["provider"], "azure");
    assert!(
        cluster.secret_provider_classes().is_empty(),
        "a dry run stores nothing"
    );
}

#[test]
fn unknown_fields_follow_field_validation() {
    let mut cluster = cluster();
    let mut typo = spc("payments-db", "kv");
    typo["spec"]["paramaters"] = json!({"x": "y"});
    let strict = call(
        Method::PATCH,
        &format!(
            "{}?fieldManager=kubectl&fieldValidation=Strict&force=false",
            db()
        ),
    )
    .raw("application/apply-patch+yaml", typo.to_string().as_bytes())
    .send(&mut cluster)
    .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        strict["message"],
        "failed to create typed patch object (payments/payments-db; secrets-store.csi.x-k8s.io/v1, Kind=SecretProviderClass): .spec.paramaters: field not declared in schema"
    );
    let created = call(Method::POST, SPC_PATH).json(&typo).send(&mut cluster);
    assert_eq!(
        created.warnings(),
        ["299 - \"unknown field \\\"spec.paramaters\\\"\""]
    );
    let stored = created.expect(StatusCode::CREATED);
    assert!(stored["spec"].get("paramaters").is_none(), "pruned");
}

#[test]
fn wrongly_typed_parameters_are_invalid() {
    let mut cluster = cluster();
    let mut boolean = spc("payments-db", "kv");
    boolean["spec"]["parameters"]["usePodIdentity"] = json!(false);
    let invalid = apply(&db(), "vaultwire", true, &boolean)
        .send(&mut cluster)
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        invalid["message"],
        "SecretProviderClass.secrets-store.csi.x-k8s.io \"payments-db\" is invalid: spec.parameters.usePodIdentity: Invalid value: \"boolean\": spec.parameters.usePodIdentity in body must be of type string: \"boolean\""
    );
    assert_eq!(invalid["details"]["kind"], "SecretProviderClass");
}

#[test]
fn the_deprecated_version_warns_and_shares_storage() {
    let mut cluster = cluster();
    let mut old = spc("payments-db", "kv");
    old["apiVersion"] = json!("secrets-store.csi.x-k8s.io/v1alpha1");
    let answer = apply(
        "/apis/secrets-store.csi.x-k8s.io/v1alpha1/namespaces/payments/secretproviderclasses/payments-db",
        "vaultwire",
        false,
        &old,
    )
    .send(&mut cluster);
    assert_eq!(
        answer.warnings(),
        [
            "299 - \"secrets-store.csi.x-k8s.io/v1alpha1 is deprecated. Use secrets-store.csi.x-k8s.io/v1 instead.\""
        ]
    );
    assert_eq!(
        answer.expect(StatusCode::CREATED)["apiVersion"],
        "secrets-store.csi.x-k8s.io/v1alpha1"
    );
    let current = get(&db()).send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(current["apiVersion"], "secrets-store.csi.x-k8s.io/v1");
}

#[test]
fn built_in_resources_are_applied_too() {
    let mut cluster = cluster();
    let path = "/api/v1/namespaces/shop/configmaps/flags";
    let config = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flags"}, "data": data});
    apply(
        path,
        "vaultwire",
        false,
        &config(json!({"a": "1", "b": "2"})),
    )
    .send(&mut cluster)
    .expect(StatusCode::CREATED);
    let updated = apply(path, "vaultwire", false, &config(json!({"a": "1"})))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(updated["data"], json!({"a": "1"}));
}

/// Stored objects keep the JSON their first answer wrote, for lists to copy: a later write must
/// replace it, and a list must read exactly as one serialized from the objects.
#[test]
fn lists_show_each_object_as_last_written_byte_for_byte() {
    let mut cluster = cluster();
    let first = apply(&db(), "vaultwire", false, &spc("payments-db", "kv-one"))
        .send(&mut cluster)
        .expect(StatusCode::CREATED);
    let listed = get(SPC_PATH).send(&mut cluster).expect(StatusCode::OK);
    assert_eq!(listed["items"], json!([first]));
    let second = apply(&db(), "vaultwire", false, &spc("payments-db", "kv-two"))
        .send(&mut cluster)
        .expect(StatusCode::OK);
    assert_eq!(second["spec"]["parameters"]["keyvaultName"], "kv-two");
    let answer = get(SPC_PATH).send(&mut cluster);
    let listed = answer.expect(StatusCode::OK);
    assert_eq!(listed["items"], json!([second]));
    // `kind`, `apiVersion`, `metadata`, `items`: the real server's order for lists.
    let expected = format!(
        r#"{{"kind":"SecretProviderClassList","apiVersion":"secrets-store.csi.x-k8s.io/v1","metadata":{},"items":[{}]}}"#,
        listed["metadata"], second
    );
    assert_eq!(
        String::from_utf8_lossy(&answer.0.body),
        expected,
        "the real server's key order, nothing more"
    );
    // A persisted world holds the objects only, and serves the same list once reloaded.
    let saved = serde_json::to_value(&cluster).unwrap();
    assert!(!saved.to_string().contains("\"json\""), "{saved}");
    let mut reloaded: KubeCluster = serde_json::from_value(saved).unwrap();
    let again = get(SPC_PATH).send(&mut reloaded);
    assert_eq!(again.0.body, answer.0.body);
}
