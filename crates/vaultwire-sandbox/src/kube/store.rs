//! The object store of one cluster: every object by resource, namespace and name, the global
//! resourceVersion counter (etcd's revision) and deterministic uids.
//!
//! It stores and numbers; it must not validate or merge (the handlers do that before writing).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::object;
use super::resources::{RESOURCES, ResourceDef};

/// The order the API server writes `metadata` in; kept so answers read like a real cluster's.
const METADATA_ORDER: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Store {
    /// The last resourceVersion handed out. One counter for the whole cluster, like etcd's
    /// revision; clients treat it as an opaque string.
    revision: u64,
    /// The namespace uids are derived in (UUID v5), from the cluster name.
    uid_namespace: Uuid,
    /// How many uids (and generated names) have been minted.
    minted: u64,
    /// Objects by resource (`secrets`, `deployments.apps`), then `namespace/name` (`name` for
    /// cluster-scoped objects), so lists come out sorted the way etcd keys sort.
    objects: BTreeMap<String, BTreeMap<String, Stored>>,
}

/// One stored object, and its JSON once something has written it: objects never change in
/// place (a write stores a new one), so every later answer that shows it as stored — a list of
/// fifty SecretProviderClasses, the answer to the write itself — copies these bytes instead of
/// serializing the object again under the world's lock. Only the object is persisted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Stored {
    pub object: Value,
    #[serde(skip)]
    json: OnceLock<Box<[u8]>>,
}

impl Stored {
    fn new(object: Value) -> Self {
        Self {
            object,
            json: OnceLock::new(),
        }
    }

    /// The object as JSON, written once.
    pub fn json(&self) -> &[u8] {
        self.json.get_or_init(|| {
            // Writing a `Value` to memory cannot fail.
            serde_json::to_vec(&self.object)
                .unwrap_or_default()
                .into_boxed_slice()
        })
    }
}

impl PartialEq for Stored {
    fn eq(&self, other: &Self) -> bool {
        self.object == other.object
    }
}

impl Store {
    pub fn new(cluster_name: &str) -> Self {
        Self {
            uid_namespace: Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                format!("urn:vaultwire:sandbox:kubernetes:{cluster_name}").as_bytes(),
            ),
            ..Self::default()
        }
    }

    /// The current revision, as list responses report it.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// A fresh, deterministic uid.
    pub fn mint_uid(&mut self) -> String {
        self.minted += 1;
        Uuid::new_v5(&self.uid_namespace, self.minted.to_string().as_bytes()).to_string()
    }

    /// Five characters for `generateName`, from the alphabet the API server uses (no vowels,
    /// no look-alike digits), derived from the same counter as uids.
    pub fn mint_suffix(&mut self) -> String {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        self.minted += 1;
        let bytes = *Uuid::new_v5(
            &self.uid_namespace,
            format!("suffix-{}", self.minted).as_bytes(),
        )
        .as_bytes();
        bytes
            .iter()
            .take(5)
            .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
            .collect()
    }

    pub fn get(&self, def: &ResourceDef, namespace: Option<&str>, name: &str) -> Option<&Value> {
        self.objects
            .get(&def.store_key())?
            .get(&object_key(namespace, name))
            .map(|stored| &stored.object)
    }

    /// Objects of `def`, in one namespace or (with `None`) everywhere, sorted by namespace and
    /// name.
    pub fn list(&self, def: &ResourceDef, namespace: Option<&str>) -> Vec<&Stored> {
        let Some(objects) = self.objects.get(&def.store_key()) else {
            return Vec::new();
        };
        objects
            .values()
            .filter(|stored| {
                namespace.is_none_or(|ns| object::namespace(&stored.object) == Some(ns))
            })
            .collect()
    }

    /// Stores `object` under a new resourceVersion and returns what was stored.
    pub fn write(&mut self, def: &ResourceDef, mut object: Value) -> &Stored {
        self.revision += 1;
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.insert(
                "resourceVersion".to_owned(),
                Value::String(self.revision.to_string()),
            );
        }
        let object = canonical(object);
        let key = object_key(
            object::namespace(&object),
            object::name(&object).unwrap_or_default(),
        );
        let objects = self.objects.entry(def.store_key()).or_default();
        objects.insert(key.clone(), Stored::new(object));
        &objects[&key]
    }

    pub fn remove(
        &mut self,
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let objects = self.objects.get_mut(&def.store_key())?;
        let removed = objects.remove(&object_key(namespace, name));
        if removed.is_some() {
            // A delete is a write: it moves the revision on, as etcd's does.
            self.revision += 1;
        }
        removed.map(|stored| stored.object)
    }

    /// Every stored object with its resource, for cascading deletes and inventories.
    pub fn all(&self) -> Vec<(&'static ResourceDef, &Value)> {
        let mut all = Vec::new();
        for def in RESOURCES {
            if let Some(objects) = self.objects.get(&def.store_key()) {
                all.extend(objects.values().map(|stored| (def, &stored.object)));
            }
        }
        all
    }

    pub fn namespace_exists(&self, namespace: &str) -> bool {
        self.objects
            .get("namespaces")
            .is_some_and(|namespaces| namespaces.contains_key(namespace))
    }
}

fn object_key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_owned(),
    }
}

/// `apiVersion`, `kind`, `metadata` (in the server's order) first, `status` last.
pub(super) fn canonical(object: Value) -> Value {
    let Value::Object(mut fields) = object else {
        return object;
    };
    let mut ordered = Map::new();
    for key in ["apiVersion", "kind"] {
        if let Some(value) = fields.remove(key) {
            ordered.insert(key.to_owned(), value);
        }
    }
    if let Some(metadata) = fields.remove("metadata") {
        ordered.insert("metadata".to_owned(), canonical_metadata(metadata));
    }
    let status = fields.remove("status");
    ordered.extend(fields);
    if let Some(status) = status {
        ordered.insert("status".to_owned(), status);
    }
    Value::Object(ordered)
}

fn canonical_metadata(metadata: Value) -> Value {
    let Value::Object(mut fields) = metadata else {
        return metadata;
    };
    let mut ordered = Map::new();
    for key in METADATA_ORDER {
        if let Some(value) = fields.remove(*key) {
            ordered.insert((*key).to_owned(), value);
        }
    }
    ordered.extend(fields);
    Value::Object(ordered)
}
