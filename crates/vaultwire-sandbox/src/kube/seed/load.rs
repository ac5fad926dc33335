//! Loads the seed manifests into a store: owner references and service-account uids are
//! resolved by name, pods get the kubelet's defaults and status, and every object goes through
//! admission and gets the managedFields its creator would have left.
//!
//! The manifests are constants of this crate; a malformed one is a bug caught by the seed tests,
//! so loading panics on it rather than returning an error nobody could handle.

use jiff::Timestamp;
use serde::Deserialize as _;
use serde_json::{Value, json};

use super::super::fieldmanager::Actor;
use super::super::managed::Managed;
use super::super::object;
use super::super::resources::{self, ResourceDef};
use super::super::store::Store;
use super::super::{admission, write};
use super::kubelet;

const MANIFESTS: &[&str] = &[
    include_str!("system.yaml"),
    include_str!("kube-system.yaml"),
    include_str!("payments.yaml"),
    include_str!("shop.yaml"),
    include_str!("default.yaml"),
];

/// Fills `store` with the seeded world.
pub(in super::super) fn seed(store: &mut Store) {
    let mut pods = 0_u8;
    for text in MANIFESTS {
        for document in serde_norway::Deserializer::from_str(text) {
            let manifest = Value::deserialize(document).expect("seed manifests are valid YAML");
            if !manifest.is_null() {
                load(store, manifest, &mut pods);
            }
        }
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn load(store: &mut Store, mut manifest: Value, pods: &mut u8) {
    let fields = manifest
        .as_object_mut()
        .expect("seed manifests are objects");
    let explicit_manager = fields.remove("seedManager");
    let status = fields.remove("status");
    let api_version = fields
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let kind = fields
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let def = resources::by_kind(group_of(&api_version), &kind).expect("seed kinds are served");
    let name = object::name(&manifest)
        .expect("seed objects are named")
        .to_owned();
    let namespace = object::namespace(&manifest).map(str::to_owned);
    let created: Timestamp = object::meta_str(&manifest, "creationTimestamp")
        .and_then(|time| time.parse().ok())
        .expect("seed objects have a creationTimestamp");
    resolve_owners(store, &mut manifest, namespace.as_deref());
    resolve_service_account(store, &mut manifest, namespace.as_deref());
    let owned =
        object::metadata(&manifest).is_some_and(|meta| meta.contains_key("ownerReferences"));
    let manager = match explicit_manager.as_ref().and_then(Value::as_str) {
        Some(manager) => manager.to_owned(),
        None if owned => "kube-controller-manager".to_owned(),
        None => "kubectl-client-side-apply".to_owned(),
    };
    if kind == "Pod" {
        let suffix = store.mint_suffix();
        kubelet::admit(&mut manifest, &suffix);
    }
    let mut prepared = admission::prepare(
        def,
        store,
        None,
        manifest,
        namespace.as_deref(),
        &name,
        created,
    )
    .expect("seed objects pass admission");
    let status = if kind == "Pod" {
        *pods += 1;
        Some(kubelet::status(&prepared, status.as_ref(), created, *pods))
    } else {
        status
    };
    if let (Some(status), Some(fields)) = (status, prepared.as_object_mut()) {
        fields.insert("status".to_owned(), status);
    }
    let mut managed = Managed::default();
    let (api_version, now) = (
        def.api_version(def.storage_version()),
        admission::time(created),
    );
    let actor = Actor {
        manager: &manager,
        api_version: &api_version,
        now: &now,
    };
    managed.update(def, None, &prepared, actor);
    store.write(def, write::with_managed(prepared, &managed));
}

/// Owner references in the manifests name their owner; the uid comes from the store.
fn resolve_owners(store: &Store, manifest: &mut Value, namespace: Option<&str>) {
    let Some(Value::Array(owners)) = object::metadata_mut(manifest).get_mut("ownerReferences")
    else {
        return;
    };
    for owner in owners.iter_mut() {
        let api_version = owner
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = owner
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = owner
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let def: &ResourceDef =
            resources::by_kind(group_of(api_version), kind).expect("seed owners are served kinds");
        let uid = store
            .get(def, namespace, name)
            .and_then(object::uid)
            .expect("seed owners come before what they own")
            .to_owned();
        owner["uid"] = json!(uid);
    }
}

/// A service-account token Secret carries its account's uid.
fn resolve_service_account(store: &Store, manifest: &mut Value, namespace: Option<&str>) {
    const UID: &str = "kubernetes.io/service-account.uid";
    let account = object::metadata(manifest)
        .and_then(|meta| meta.get("annotations"))
        .and_then(|annotations| annotations.get("kubernetes.io/service-account.name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let (Some(account), Some(def)) = (account, resources::by_kind("", "ServiceAccount")) else {
        return;
    };
    let uid = store
        .get(def, namespace, &account)
        .and_then(object::uid)
        .map(str::to_owned);
    if let (Some(uid), Some(Value::Object(annotations))) =
        (uid, object::metadata_mut(manifest).get_mut("annotations"))
    {
        annotations.insert(UID.to_owned(), json!(uid));
    }
}
