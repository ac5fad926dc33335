//! `metadata.managedFields` as data: the entries (manager, operation, API version, time, field
//! set), read from and written to objects in the API server's order and shape.
//!
//! How writes change ownership is `fieldmanager`'s job.

use serde_json::{Value, json};

use super::fieldset::FieldSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl Entry {
    /// Whether two entries belong to the same owner (`BuildManagerIdentifier`): appliers are
    /// one owner across API versions, updaters are not.
    pub(super) fn same_owner(
        &self,
        manager: &str,
        operation: Operation,
        api_version: &str,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.is_none()
            && (operation == Operation::Apply || self.api_version == api_version)
    }

    /// `"m"` or `"m" using v1`, as conflicts name owners.
    pub(super) fn printed(&self) -> String {
        let mut printed = format!("\"{}\"", self.manager);
        if let Some(subresource) = &self.subresource {
            printed.push_str(&format!(" with subresource \"{subresource}\""));
        }
        if self.operation == Operation::Update {
            printed.push_str(&format!(" using {}", self.api_version));
        }
        printed
    }
}

/// All entries of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Managed {
    pub(super) entries: Vec<Entry>,
}

impl Managed {
    /// Reads `metadata.managedFields`; `Err` names what is malformed.
    pub fn decode(object: &Value) -> Result<Managed, String> {
        let Some(raw) = object
            .get("metadata")
            .and_then(|metadata| metadata.get("managedFields"))
        else {
            return Ok(Managed::default());
        };
        let Some(items) = raw.as_array() else {
            return Err("metadata.managedFields must be a list".to_owned());
        };
        let mut entries = Vec::new();
        for item in items {
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            let operation = match text("operation").as_deref() {
                Some("Apply") => Operation::Apply,
                Some("Update") => Operation::Update,
                other => return Err(format!("invalid managedFields operation {other:?}")),
            };
            let fields = match item.get("fieldsV1") {
                Some(fields) => FieldSet::from_fields_v1(fields)?,
                None => FieldSet::default(),
            };
            entries.push(Entry {
                manager: text("manager").unwrap_or_default(),
                operation,
                api_version: text("apiVersion").unwrap_or_default(),
                time: text("time"),
                subresource: text("subresource").filter(|sub| !sub.is_empty()),
                fields,
            });
        }
        Ok(Managed { entries })
    }

    /// The `managedFields` list, sorted as the API server sorts it (operation, time, manager).
    pub fn encode(&self) -> Value {
        let mut entries: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|entry| !entry.fields.is_empty())
            .collect();
        entries.sort_by(|a, b| {
            (a.operation, &a.time, &a.manager, &a.api_version).cmp(&(
                b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
            ))
        });
        Value::Array(
            entries
                .into_iter()
                .map(|entry| {
                    let mut encoded = json!({
                        "manager": entry.manager,
                        "operation": entry.operation.as_str(),
                        "apiVersion": entry.api_version,
                    });
                    if let Some(time) = &entry.time {
                        encoded["time"] = json!(time);
                    }
                    encoded["fieldsType"] = json!("FieldsV1");
                    encoded["fieldsV1"] = entry.fields.to_fields_v1();
                    if let Some(subresource) = &entry.subresource {
                        encoded["subresource"] = json!(subresource);
                    }
                    encoded
                })
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|entry| entry.fields.is_empty())
    }

    /// Whether two managed-field lists are the same ignoring timestamps: a write that changes
    /// nothing else is a no-op (the API server's `IgnoreManagedFieldsTimestampsTransformer`).
    pub fn same_ignoring_time(&self, other: &Managed) -> bool {
        let strip = |managed: &Managed| {
            let mut entries: Vec<(String, Operation, String, Option<String>, Value)> = managed
                .entries
                .iter()
                .filter(|entry| !entry.fields.is_empty())
                .map(|entry| {
                    (
                        entry.manager.clone(),
                        entry.operation,
                        entry.api_version.clone(),
                        entry.subresource.clone(),
                        entry.fields.to_fields_v1(),
                    )
                })
                .collect();
            entries.sort_by(|a, b| (&a.0, a.1, &a.2, &a.3).cmp(&(&b.0, b.1, &b.2, &b.3)));
            entries
        };
        strip(self) == strip(other)
    }
}
