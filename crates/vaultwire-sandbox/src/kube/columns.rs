//! The Table columns and cells the API server prints for each resource (the kubernetes
//! `printers` package, abridged): what `kubectl get` shows.
//!
//! Rendering only; it reads objects and never changes them.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::age;
use super::object;
use super::resources::Columns;

/// `(name, type, priority)`; priority 1 columns appear only with `-o wide`.
type Column = (&'static str, &'static str, u8);

const NAME: Column = ("Name", "string", 0);
const AGE: Column = ("Age", "string", 0);

pub(super) fn definitions(columns: Columns) -> Vec<Value> {
    let list: Vec<Column> = match columns {
        Columns::NameAge => vec![NAME, AGE],
        Columns::Namespace => vec![NAME, ("Status", "string", 0), AGE],
        Columns::Secret => vec![NAME, ("Type", "string", 0), ("Data", "integer", 0), AGE],
        Columns::ConfigMap => vec![NAME, ("Data", "integer", 0), AGE],
        Columns::ServiceAccount => vec![NAME, ("Secrets", "integer", 0), AGE],
        // The event printer's columns: no Name first, and no Age.
        Columns::Event => vec![
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Subobject", "string", 1),
            ("Source", "string", 1),
            ("Message", "string", 0),
            ("First Seen", "string", 1),
            ("Count", "string", 1),
            ("Name", "string", 1),
        ],
        Columns::Pod => vec![
            NAME,
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            AGE,
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        Columns::Deployment => vec![
            NAME,
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        Columns::ReplicaSet => vec![
            NAME,
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        Columns::StatefulSet => vec![
            NAME,
            ("Ready", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
        ],
        Columns::DaemonSet => vec![
            NAME,
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        Columns::Job => vec![
            NAME,
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        Columns::CronJob => vec![
            NAME,
            ("Schedule", "string", 0),
            ("Timezone", "string", 0),
            ("Suspend", "boolean", 0),
            ("Active", "integer", 0),
            ("Last Schedule", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        Columns::Lease => vec![NAME, ("Holder", "string", 0), AGE],
    };
    list.into_iter()
        .map(|(name, kind, priority)| {
            let mut column = json!({"name": name, "type": kind, "format": "", "description": "", "priority": priority});
            if name == "Name" {
                column["format"] = json!("name");
                column["description"] = json!("Name must be unique within a namespace.");
            }
            column
        })
        .collect()
}

fn count(value: Option<&Value>) -> i64 {
    value
        .and_then(Value::as_object)
        .map_or(0, |map| i64::try_from(map.len()).unwrap_or(i64::MAX))
}

fn int(object: &Value, path: &str) -> i64 {
    object::i64_at(object, path).unwrap_or(0)
}

fn or_none(text: String) -> String {
    if text.is_empty() {
        "<none>".to_owned()
    } else {
        text
    }
}

/// `a=b,c=d` from a map of strings, sorted by key as `labels.FormatLabels` does.
fn format_labels(map: Option<&Value>) -> String {
    let Some(map) = map.and_then(Value::as_object) else {
        return "<none>".to_owned();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    or_none(pairs.join(","))
}

/// Container names and images of a pod template at `spec_path`.
fn containers(object: &Value, spec_path: &str) -> (String, String) {
    let list = object::array_at(object, &format!("{spec_path}.containers"));
    let names: Vec<&str> = list
        .iter()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    let images: Vec<&str> = list
        .iter()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .collect();
    (or_none(names.join(",")), or_none(images.join(",")))
}

fn event_cells(object: &Value, name: Value, now: Timestamp) -> Vec<Value> {
    let text = |path: &str| object::str_at(object, path).unwrap_or_default();
    let last = ["lastTimestamp", "eventTime", "metadata.creationTimestamp"]
        .into_iter()
        .find_map(|path| object::str_at(object, path));
    let kind = text("involvedObject.kind").to_ascii_lowercase();
    let source = match (text("source.component"), text("source.host")) {
        (component, "") => component.to_owned(),
        (component, host) => format!("{component}, {host}"),
    };
    vec![
        json!(age::since(last, now)),
        json!(text("type")),
        json!(text("reason")),
        json!(format!("{kind}/{}", text("involvedObject.name"))),
        json!(text("involvedObject.fieldPath")),
        json!(source),
        json!(text("message")),
        json!(age::since(object::str_at(object, "firstTimestamp"), now)),
        json!(
            object::at_path(object, "count")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .to_string()
        ),
        name,
    ]
}

fn selector(object: &Value) -> String {
    format_labels(object::at_path(object, "spec.selector.matchLabels"))
}

pub(super) fn cells(columns: Columns, object: &Value, now: Timestamp) -> Vec<Value> {
    let name = json!(object::name(object).unwrap_or_default());
    let age = json!(age::since(
        object::meta_str(object, "creationTimestamp"),
        now
    ));
    match columns {
        Columns::NameAge => vec![name, age],
        Columns::Namespace => vec![
            name,
            json!(object::str_at(object, "status.phase").unwrap_or_default()),
            age,
        ],
        Columns::Secret => vec![
            name,
            json!(object::str_at(object, "type").unwrap_or_default()),
            json!(count(object.get("data"))),
            age,
        ],
        Columns::ConfigMap => vec![
            name,
            json!(count(object.get("data")) + count(object.get("binaryData"))),
            age,
        ],
        Columns::ServiceAccount => {
            vec![name, json!(object::array_at(object, "secrets").len()), age]
        }
        Columns::Pod => pod_cells(object, name, age),
        Columns::Event => event_cells(object, name, now),
        Columns::Deployment => {
            let (names, images) = containers(object, "spec.template.spec");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(object, "status.readyReplicas"),
                    int(object, "spec.replicas")
                )),
                json!(int(object, "status.updatedReplicas")),
                json!(int(object, "status.availableReplicas")),
                age,
                json!(names),
                json!(images),
                json!(selector(object)),
            ]
        }
        Columns::ReplicaSet => {
            let (names, images) = containers(object, "spec.template.spec");
            vec![
                name,
                json!(int(object, "spec.replicas")),
                json!(int(object, "status.replicas")),
                json!(int(object, "status.readyReplicas")),
                age,
                json!(names),
                json!(images),
                json!(selector(object)),
            ]
        }
        Columns::StatefulSet => {
            let (names, images) = containers(object, "spec.template.spec");
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(object, "status.readyReplicas"),
                    int(object, "spec.replicas")
                )),
                age,
                json!(names),
                json!(images),
            ]
        }
        Columns::DaemonSet => {
            let (names, images) = containers(object, "spec.template.spec");
            vec![
                name,
                json!(int(object, "status.desiredNumberScheduled")),
                json!(int(object, "status.currentNumberScheduled")),
                json!(int(object, "status.numberReady")),
                json!(int(object, "status.updatedNumberScheduled")),
                json!(int(object, "status.numberAvailable")),
                json!(format_labels(object::at_path(
                    object,
                    "spec.template.spec.nodeSelector"
                ))),
                age,
                json!(names),
                json!(images),
                json!(selector(object)),
            ]
        }
        Columns::Job => job_cells(object, name, age, now),
        Columns::CronJob => {
            let (names, images) = containers(object, "spec.jobTemplate.spec.template.spec");
            let last = object::str_at(object, "status.lastScheduleTime")
                .map_or_else(|| "<none>".to_owned(), |time| age::since(Some(time), now));
            vec![
                name,
                json!(object::str_at(object, "spec.schedule").unwrap_or_default()),
                json!(object::str_at(object, "spec.timeZone").unwrap_or("<none>")),
                json!(
                    object::at_path(object, "spec.suspend")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                ),
                json!(object::array_at(object, "status.active").len()),
                json!(last),
                age,
                json!(names),
                json!(images),
                json!(format_labels(object::at_path(
                    object,
                    "spec.jobTemplate.spec.selector.matchLabels"
                ))),
            ]
        }
        Columns::Lease => vec![
            name,
            json!(object::str_at(object, "spec.holderIdentity").unwrap_or("<none>")),
            age,
        ],
    }
}

/// Ready, Status and Restarts as `printPod` derives them from container statuses.
fn pod_cells(object: &Value, name: Value, age: Value) -> Vec<Value> {
    let specs = object::array_at(object, "spec.containers");
    let statuses = object::array_at(object, "status.containerStatuses");
    let ready = statuses
        .iter()
        .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    let restarts: i64 = statuses
        .iter()
        .filter_map(|s| s.get("restartCount").and_then(Value::as_i64))
        .sum();
    let mut reason = object::str_at(object, "status.reason")
        .or_else(|| object::str_at(object, "status.phase"))
        .unwrap_or("Unknown")
        .to_owned();
    for status in statuses.iter().rev() {
        if let Some(waiting) = status
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
        {
            reason = waiting.to_owned();
        } else if let Some(terminated) = status
            .pointer("/state/terminated/reason")
            .and_then(Value::as_str)
        {
            reason = terminated.to_owned();
        }
    }
    if object::meta_str(object, "deletionTimestamp").is_some() {
        reason = "Terminating".to_owned();
    }
    vec![
        name,
        json!(format!("{ready}/{}", specs.len())),
        json!(reason),
        json!(restarts.to_string()),
        age,
        json!(object::str_at(object, "status.podIP").unwrap_or("<none>")),
        json!(object::str_at(object, "spec.nodeName").unwrap_or("<none>")),
        json!(object::str_at(object, "status.nominatedNodeName").unwrap_or("<none>")),
        json!("<none>"),
    ]
}

fn job_cells(object: &Value, name: Value, age: Value, now: Timestamp) -> Vec<Value> {
    let (names, images) = containers(object, "spec.template.spec");
    let condition = |kind: &str| {
        object::array_at(object, "status.conditions")
            .iter()
            .any(|condition| {
                condition.get("type").and_then(Value::as_str) == Some(kind)
                    && condition.get("status").and_then(Value::as_str) == Some("True")
            })
    };
    let status = if condition("Complete") {
        "Complete"
    } else if condition("Failed") {
        "Failed"
    } else if condition("Suspended") {
        "Suspended"
    } else {
        "Running"
    };
    let completions = object::i64_at(object, "spec.completions").unwrap_or(1);
    let start = object::str_at(object, "status.startTime");
    let duration = match (start, object::str_at(object, "status.completionTime")) {
        (Some(start), Some(end)) => age::between(start, end).unwrap_or_default(),
        (Some(start), None) => age::since(Some(start), now),
        (None, _) => String::new(),
    };
    vec![
        name,
        json!(status),
        json!(format!("{}/{completions}", int(object, "status.succeeded"))),
        json!(duration),
        age,
        json!(names),
        json!(images),
        json!(selector(object)),
    ]
}
