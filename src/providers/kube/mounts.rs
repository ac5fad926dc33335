//! Pods that fail to mount SecretProviderClasses, as the kubelet reports them: the pods whose
//! Secrets Store CSI volumes name one of the classes and that do not run, each with its latest
//! `FailedMount` Event. Two LISTs per cluster (pods, and events by field selector); no secret
//! value is read.

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::KubeError;
use super::retry::with_retries;

/// The Secrets Store CSI driver's name, as pod volumes give it.
pub const CSI_DRIVER: &str = "secrets-store.csi.k8s.io";

/// A pod that mounts a class and cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountFailure {
    pub namespace: String,
    /// The SecretProviderClass it mounts.
    pub class: String,
    pub pod: String,
    /// [`summary`] of its latest `FailedMount` Event.
    pub summary: String,
    /// The Event's `lastTimestamp`.
    pub last_seen: Option<jiff::Timestamp>,
}

/// The pods that mount one of `classes` (`(namespace, name)`) in their namespace and have a
/// `FailedMount` Event, sorted: two LISTs across all namespaces at once, whatever the number
/// of classes.
pub async fn failing_pods(
    client: &kube::Client,
    classes: &[(String, String)],
) -> Result<Vec<MountFailure>, KubeError> {
    // Both LISTs at once: one round trip.
    let pods: Api<Pod> = Api::all(client.clone());
    let events: Api<Event> = Api::all(client.clone());
    // Only pods that do not run: a busy cluster's running pods are most of them.
    let not_running = ListParams::default().fields("status.phase!=Running,status.phase!=Succeeded");
    let failed = ListParams::default().fields("reason=FailedMount");
    let (listed, events) = futures::future::join(
        with_retries(|| pods.list(&not_running)),
        with_retries(|| events.list(&failed)),
    )
    .await;
    let listed = listed.map_err(|error| KubeError::from_kube("list", "pods".to_owned(), error))?;
    let events =
        events.map_err(|error| KubeError::from_kube("list", "events".to_owned(), error))?;
    let mut waiting: Vec<(String, String, String, String)> = Vec::new();
    for pod in listed
        .items
        .iter()
        .filter_map(|pod| serde_json::to_value(pod).ok())
    {
        let text = |pointer: &str| {
            pod.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let namespace = text("/metadata/namespace");
        for (_, class) in classes.iter().filter(|(ns, _)| *ns == namespace) {
            if mounts_class(&pod, class) {
                waiting.push((
                    namespace.clone(),
                    class.clone(),
                    text("/metadata/name"),
                    text("/metadata/uid"),
                ));
            }
        }
    }
    let mut failures = Vec::new();
    for (namespace, class, name, uid) in waiting {
        let latest = events
            .items
            .iter()
            .filter(|event| {
                event.involved_object.namespace.as_deref() == Some(namespace.as_str())
                    && event.involved_object.name.as_deref() == Some(name.as_str())
                    && event
                        .involved_object
                        .uid
                        .as_deref()
                        .is_none_or(|event_uid| event_uid == uid)
            })
            .max_by_key(|event| event.last_timestamp.as_ref().map(|time| time.0));
        if let Some(event) = latest {
            failures.push(MountFailure {
                namespace,
                class,
                pod: name,
                summary: summary(
                    event.message.as_deref().unwrap_or_default(),
                    i64::from(event.count.unwrap_or(1)),
                ),
                last_seen: event.last_timestamp.as_ref().map(|time| time.0),
            });
        }
    }
    failures
        .sort_by(|a, b| (&a.namespace, &a.class, &a.pod).cmp(&(&b.namespace, &b.class, &b.pod)));
    Ok(failures)
}

/// A pod that mounts a class, and the service account it runs as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MountingPod {
    pub namespace: String,
    pub class: String,
    pub pod: String,
    pub service_account: String,
}

/// Every pod that mounts one of `classes` (`(namespace, name)`), whatever its phase, sorted:
/// one LIST per namespace of the classes, all at once.
pub async fn pods_mounting(
    client: &kube::Client,
    classes: &[(String, String)],
) -> Result<Vec<MountingPod>, KubeError> {
    let mut namespaces: Vec<&str> = classes.iter().map(|(ns, _)| ns.as_str()).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let lists = futures::future::join_all(namespaces.iter().map(|namespace| {
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        async move {
            let all = ListParams::default();
            with_retries(|| pods.list(&all)).await.map_err(|error| {
                KubeError::from_kube("list", format!("pods in `{namespace}`"), error)
            })
        }
    }))
    .await;
    let mut found = Vec::new();
    for listed in lists {
        for pod in listed?
            .items
            .iter()
            .filter_map(|pod| serde_json::to_value(pod).ok())
        {
            let text = |pointer: &str| {
                pod.pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let namespace = text("/metadata/namespace").unwrap_or_default();
            for (_, class) in classes.iter().filter(|(ns, _)| *ns == namespace) {
                if mounts_class(&pod, class) {
                    found.push(MountingPod {
                        namespace: namespace.clone(),
                        class: class.clone(),
                        pod: text("/metadata/name").unwrap_or_default(),
                        // The API server fills in `default` when a pod names none.
                        service_account: text("/spec/serviceAccountName")
                            .unwrap_or_else(|| "default".to_owned()),
                    });
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Whether `pod` has a Secrets Store CSI volume naming `class`.
pub fn mounts_class(pod: &Value, class: &str) -> bool {
    pod.get("spec")
        .is_some_and(|spec| spec_mounts_class(spec, class))
}

/// Whether the pod spec (or pod template spec) `spec` has a Secrets Store CSI volume naming
/// `class`.
pub fn spec_mounts_class(spec: &Value, class: &str) -> bool {
    spec.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|volume| {
            volume.pointer("/csi/driver").and_then(Value::as_str) == Some(CSI_DRIVER)
                && volume
                    .pointer("/csi/volumeAttributes/secretProviderClass")
                    .and_then(Value::as_str)
                    == Some(class)
        })
}

/// A `FailedMount` message down to what it says went wrong: its first line (the Key Vault
/// answer's layout follows on the next lines), with Key Vault's error code — the inner one too
/// when the body has it, as it tells a missing grant (`ForbiddenByRbac`) from a firewall
/// (`ForbiddenByFirewall`) — and how often the kubelet has seen it.
pub fn summary(message: &str, count: i64) -> String {
    let first = message.lines().next().unwrap_or_default();
    let outer = message
        .lines()
        .find_map(|line| line.strip_prefix("ERROR CODE: "));
    // The body follows the status lines, as the Azure SDK for Go prints it.
    let body = message.find("\n{").and_then(|start| {
        let body = &message[start + 1..];
        let end = body.find("\n---").unwrap_or(body.len());
        serde_json::from_str::<Value>(&body[..end]).ok()
    });
    let inner = body
        .as_ref()
        .and_then(|body| body.pointer("/error/innererror/code"))
        .and_then(Value::as_str);
    // Entra's error shape (a refused token exchange) numbers its errors: AADSTS700213.
    let entra: Vec<String> = body
        .as_ref()
        .and_then(|body| body.get("error_codes"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .map(|code| format!("AADSTS{code}"))
        .collect();
    let code = match (outer, inner) {
        (Some(outer), Some(inner)) => format!(" ({outer}: {inner})"),
        (Some(outer), None) => format!(" ({outer})"),
        (None, _) if !entra.is_empty() => format!(" ({})", entra.join(", ")),
        (None, _) => String::new(),
    };
    format!("{first}{code}, seen {count} time(s)")
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn a_summary_names_the_first_line_and_both_error_codes() {
        let message = "MountVolume.SetUp failed for volume \"s\" : … objectVersion:: GET https://kv.vault.azure.net/secrets/a/\n----\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n----\n{\n  \"error\": {\n    \"code\": \"Forbidden\",\n    \"innererror\": {\"code\": \"ForbiddenByFirewall\"}\n  }\n}\n----\n";
        assert_eq!(
            summary(message, 3),
            "MountVolume.SetUp failed for volume \"s\" : … objectVersion:: GET https://kv.vault.azure.net/secrets/a/ (Forbidden: ForbiddenByFirewall), seen 3 time(s)"
        );
        assert_eq!(
            summary("driver name x not found", 1),
            "driver name x not found, seen 1 time(s)"
        );
    }

    #[test]
    fn a_refused_token_exchange_is_named_by_its_aadsts_code() {
        let message = "MountVolume.SetUp failed for volume \"s\" : … objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/t/oauth2/v2.0/token\n----\nRESPONSE 401: 401 Unauthorized\n----\n{\n  \"error\": \"invalid_client\",\n  \"error_codes\": [\n    700213\n  ]\n}\n----\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#client-assertion";
        assert_eq!(
            summary(message, 2),
            "MountVolume.SetUp failed for volume \"s\" : … objectVersion:: ClientAssertionCredential authentication failed.  (AADSTS700213), seen 2 time(s)"
        );
    }
}
