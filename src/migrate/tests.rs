//! The documented handling of each kind of Secret, on hand-made cluster objects.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::compute::{ClusterInput, compute};
use super::model::{
    Encoding, LeftAloneReason, Migration, Mode, Request, SecretBytes, SecretContent,
};
use super::plan_text;
use crate::audit::scan::{ClusterObjects, WorkloadKind};
use crate::plan::testing::example_plan;

fn secret(secret_type: &str, data: &[(&str, Vec<u8>)]) -> SecretContent {
    SecretContent {
        secret_type: secret_type.to_owned(),
        labels: BTreeMap::new(),
        data: data
            .iter()
            .map(|(key, bytes)| ((*key).to_owned(), SecretBytes::new(bytes.clone())))
            .collect(),
    }
}

/// A Deployment `app` in `team` whose container reads `env_secret` by `secretKeyRef` and
/// mounts `volume_secret` as a secret volume, pulling its image with `pull_secret`.
fn deployment(env_secret: &str, volume_secret: &str, pull_secret: &str) -> Value {
    json!({"metadata": {"name": "app", "namespace": "team"}, "spec": {"template": {"spec": {
        "imagePullSecrets": [{"name": pull_secret}],
        "containers": [{"name": "app",
            "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": env_secret, "key": "api_token"}}}],
            "volumeMounts": [{"name": "certs", "mountPath": "/etc/certs"}]}],
        "volumes": [{"name": "certs", "secret": {"secretName": volume_secret}}]}}}})
}

fn migrate(mode: Mode, contents: BTreeMap<(String, String), SecretContent>) -> Migration {
    let (plan, _) = example_plan();
    let objects = ClusterObjects::default().with(
        WorkloadKind::Deployment,
        vec![deployment("keys", "web-tls", "registry")],
    );
    on_aks_demo(&plan, "team", mode, &objects, &contents)
}

/// The migration of `namespace` on `aks-demo` (`[addon.demo]`).
fn on_aks_demo(
    plan: &crate::plan::model::Plan,
    namespace: &str,
    mode: Mode,
    objects: &ClusterObjects,
    contents: &BTreeMap<(String, String), SecretContent>,
) -> Migration {
    let request = Request {
        namespaces: vec![namespace.to_owned()],
        secret: None,
        vault: None,
        mode,
    };
    let input = ClusterInput {
        addon: "demo",
        cluster: "aks-demo",
        objects,
        contents,
    };
    compute(plan, &request, &[input]).unwrap()
}

fn world(keys_extra: &[(&str, Vec<u8>)]) -> BTreeMap<(String, String), SecretContent> {
    let mut keys = vec![
        ("api_token", b"t0ken".to_vec()),
        ("api.token", b"other".to_vec()),
        ("blob", vec![0xff, 0x00, 0x80]),
    ];
    keys.extend(keys_extra.iter().cloned());
    BTreeMap::from([
        (("team".into(), "keys".into()), secret("Opaque", &keys)),
        (
            ("team".into(), "web-tls".into()),
            secret(
                "kubernetes.io/tls",
                &[
                    ("tls.crt", b"-----BEGIN CERTIFICATE-----\n".to_vec()),
                    ("tls.key", b"k".to_vec()),
                ],
            ),
        ),
        (
            ("team".into(), "registry".into()),
            secret(
                "kubernetes.io/dockerconfigjson",
                &[(".dockerconfigjson", b"{}".to_vec())],
            ),
        ),
    ])
}

#[test]
fn keys_map_without_collisions_binary_goes_base64_and_tls_keeps_its_type() {
    let migration = migrate(Mode::Sync, world(&[]));
    let keys = &migration.moves[0];
    assert_eq!(keys.secret, "keys");
    let names: Vec<(&str, &str, Encoding)> = keys
        .keys
        .iter()
        .map(|k| (k.key.as_str(), k.vault_secret.as_str(), k.encoding))
        .collect();
    // `api.token` and `api_token` would both read `api-token`: each gets a stable suffix.
    assert_eq!(names[0].0, "api.token");
    assert!(
        names[0].1.starts_with("team--keys--api-token-")
            && names[1].1.starts_with("team--keys--api-token-")
    );
    assert_ne!(names[0].1, names[1].1);
    assert_eq!(names[2], ("blob", "team--keys--blob", Encoding::Base64));
    assert_eq!(
        keys.keys[2].stored_bytes, 4,
        "three bytes are four base64 characters"
    );

    // A TLS Secret moves as two secrets fetched as `secret` (key and chain kept), recreated
    // with its type.
    let tls = &migration.moves[1];
    assert_eq!(tls.secret, "web-tls");
    let sync = tls.spc.sync.as_ref().unwrap();
    assert_eq!(sync.secret_type, "kubernetes.io/tls");
    assert_eq!(sync.keys, ["tls.crt", "tls.key"]);
    let toml = plan_text::entries(&migration);
    assert!(
        toml.contains(r#"alias = "blob", encoding = "base64" }"#),
        "{toml}"
    );
    assert!(
        toml.contains(r#"{ object = "tls.crt", key = "tls.crt" }"#),
        "{toml}"
    );
}

#[test]
fn image_pull_secrets_and_oversized_values_are_left_alone_with_the_reason() {
    let big = vec![b'x'; 30 * 1024];
    let migration = migrate(Mode::Sync, world(&[("dump", big)]));
    let reasons: Vec<(&str, LeftAloneReason)> = migration
        .left_alone
        .iter()
        .map(|left| (left.secret.as_str(), left.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("keys", LeftAloneReason::TooLarge),
            ("registry", LeftAloneReason::ImagePullSecret)
        ]
    );
    assert!(
        migration.left_alone[0].detail.contains("`dump` (30.0 KB)"),
        "{:?}",
        migration.left_alone
    );
    // The TLS Secret still moves.
    assert_eq!(migration.moves.len(), 1);
}

#[test]
fn files_mode_replaces_secret_volumes_and_lists_env_reads_for_the_owner() {
    let migration = migrate(Mode::Files, world(&[]));
    assert!(migration.moves.iter().all(|m| m.spc.sync.is_none()));
    let patch = &migration.workloads[0];
    assert_eq!(patch.file, "aks-demo/team/deployment-app.yaml");
    let volumes = &patch.patch["spec"]["template"]["spec"]["volumes"];
    let certs = volumes
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "certs")
        .unwrap();
    assert_eq!(certs["secret"], Value::Null);
    assert_eq!(
        certs["csi"]["volumeAttributes"]["secretProviderClass"],
        "web-tls"
    );
    assert_eq!(
        patch.owner_changes,
        ["container `app`: read `/mnt/secrets-store/keys/api_token` instead of env var `TOKEN`"]
    );
}

#[test]
fn a_secret_the_plan_already_syncs_adds_nothing_to_the_plan() {
    let (plan, _) = example_plan();
    let objects = ClusterObjects::default().with(
        WorkloadKind::Deployment,
        vec![json!({"metadata": {"name": "api", "namespace": "payments"}, "spec": {"template": {"spec": {
            "containers": [{"name": "api", "envFrom": [{"secretRef": {"name": "payments-db"}}]}]}}}})],
    );
    let contents = BTreeMap::from([(
        ("payments".to_owned(), "payments-db".to_owned()),
        secret(
            "Opaque",
            &[("password", b"p".to_vec()), ("username", b"u".to_vec())],
        ),
    )]);
    let migration = on_aks_demo(&plan, "payments", Mode::Sync, &objects, &contents);
    let moved = &migration.moves[0];
    assert!(moved.spc.in_plan);
    assert_eq!(moved.spc.key, "payments-db");
    // The plan's own object names carry the values.
    assert_eq!(moved.keys[0].vault_secret, "db-password");
    assert_eq!(plan_text::entries(&migration.without_planned()), "");
    // The workload still needs to mount the class, so the driver syncs it.
    assert_eq!(migration.workloads.len(), 1);
    assert!(!migration.is_empty());
}

#[test]
fn the_grant_the_class_identity_lacks_is_added_once() {
    let example = include_str!("../../plans/example.toml");
    let start = example.find("# Let the add-on identity").unwrap();
    let end = example
        .find("# A SecretProviderClass in namespace")
        .unwrap();
    let text = format!("{}{}", &example[..start], &example[end..]);
    let (plan, _) = crate::plan::testing::plan_from("no-grant.toml", &text);
    assert!(plan.grants.is_empty());
    let objects = ClusterObjects::default().with(
        WorkloadKind::Deployment,
        vec![deployment("keys", "web-tls", "registry")],
    );
    let contents = world(&[]);
    let migration = on_aks_demo(&plan, "team", Mode::Sync, &objects, &contents);
    assert_eq!(migration.grants.len(), 1, "one grant for both classes");
    let grant = &migration.grants[0];
    assert_eq!(grant.key, "demo-reads-payments");
    assert_eq!(grant.role.as_deref(), Some("Key Vault Secrets User"));
    let toml = plan_text::entries(&migration);
    assert!(
        toml.contains("[grant.demo-reads-payments]\nvault = \"payments\"\nprincipal = { addon = \"demo\" }\nrole = \"Key Vault Secrets User\"\n"),
        "{toml}"
    );
    // What --write appends checks as a plan.
    let (extended, _) =
        crate::plan::testing::plan_from("extended.toml", &plan_text::append(&text, &toml));
    assert!(extended.grants.contains_key("demo-reads-payments"));
    assert!(extended.spcs["team-keys"].restore_on_destroy);
}

#[test]
fn the_json_form_names_encodings_as_the_plan_does_and_holds_no_value() {
    let migration = migrate(Mode::Sync, world(&[]));
    let text = super::render::json(&migration);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format_version"], "1");
    let keys = &json["migration"]["moves"][0]["keys"];
    assert_eq!(keys[0]["encoding"], "utf-8");
    assert_eq!(keys[2]["encoding"], "base64");
    assert_eq!(
        json["migration"]["left_alone"][0]["reason"],
        "image-pull-secret"
    );
    for value in ["t0ken", "other"] {
        assert!(!text.contains(value), "{text}");
    }
}

#[test]
fn a_pod_whose_controller_was_not_listed_gets_no_patch_of_its_own() {
    let (plan, _) = example_plan();
    // Listed between the ReplicaSet LIST and the Pod LIST: its ReplicaSet is not among the
    // objects, so the scan sees the pod as a workload of its own.
    let orphan = json!({"metadata": {"name": "app-7f9-x2", "namespace": "team",
        "ownerReferences": [{"kind": "ReplicaSet", "name": "app-7f9", "controller": true}]},
        "spec": {"containers": [{"name": "app", "env": [{"name": "TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "keys", "key": "api_token"}}}]}]}});
    let objects = ClusterObjects::default()
        .with(
            WorkloadKind::Deployment,
            vec![deployment("keys", "web-tls", "registry")],
        )
        .with(WorkloadKind::Pod, vec![orphan]);
    let migration = on_aks_demo(&plan, "team", Mode::Sync, &objects, &world(&[]));
    let patched: Vec<&str> = migration
        .workloads
        .iter()
        .map(|w| w.kind.as_str())
        .collect();
    assert_eq!(patched, ["Deployment"]);
}
