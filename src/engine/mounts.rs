//! After an apply: pods that mount a SecretProviderClass the apply created or changed and
//! cannot start. A warning, never a failure: the objects are as planned, the kubelet keeps
//! retrying, and what is missing (a secret value, a grant still propagating, a firewall rule)
//! is often outside the plan.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::backend::{Backend, ClusterKey, ClusterRef};
use crate::plan::address::{Address, ResourceKind};
use crate::state::model::{AttributeText, StateFile};

/// What `apply` warns about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountWarning {
    /// A pod that mounts the class at `address` cannot start; `summary` is its latest
    /// `FailedMount` Event.
    Failing {
        address: Address,
        namespace: String,
        pod: String,
        summary: String,
    },
    /// The pods could not be read.
    Unread { address: Address, error: String },
}

impl std::fmt::Display for MountWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MountWarning::Failing {
                address,
                namespace,
                pod,
                summary,
            } => write!(
                f,
                "{address}: pod {namespace}/{pod} cannot mount it: {summary}"
            ),
            MountWarning::Unread { address, error } => {
                write!(
                    f,
                    "{address}: the pods that mount it could not be read: {error}"
                )
            }
        }
    }
}

/// Said of a refused token exchange (AADSTS70021, 700211, 700213) after an apply that wrote
/// federated credentials: Entra takes a while to use a new one (Azure/azure-workload-identity
/// #273, #576: seconds to about two minutes).
pub const FRESH_CREDENTIAL_HINT: &str = "; a federated credential this apply wrote can take up to about 2 minutes to be accepted by Entra, and the kubelet retries";

/// A class the apply touched: its address, namespace and name.
type TouchedClass = (Address, String, String);

/// The warnings for the SecretProviderClasses among `touched`, in address order: failures the
/// kubelet reported at or after `since` (the apply's start; an older one predates what the
/// apply changed, and the kubelet has not retried since). One read per cluster.
pub async fn mount_warnings<B: Backend>(
    backend: &B,
    state: &StateFile,
    touched: &BTreeSet<Address>,
    since: jiff::Timestamp,
) -> Vec<MountWarning> {
    // Events carry whole seconds.
    let since = jiff::Timestamp::from_second(since.as_second()).unwrap_or(since);
    let mut by_cluster: BTreeMap<ClusterKey, (ClusterRef, Vec<TouchedClass>)> = BTreeMap::new();
    for address in touched.iter().filter(|a| a.kind == ResourceKind::Spc) {
        let Some(resource) = state.resources.get(address) else {
            continue;
        };
        let cluster = ClusterRef::of(&resource.attributes, &resource.settings);
        let entry = by_cluster
            .entry(cluster.key.clone())
            .or_insert_with(|| (cluster, Vec::new()));
        entry.1.push((
            address.clone(),
            resource.attributes.text("namespace").to_owned(),
            resource.attributes.text("name").to_owned(),
        ));
    }
    // Every cluster at once.
    let reads = by_cluster
        .into_values()
        .map(|(cluster, classes)| async move {
            let wanted: Vec<(String, String)> = classes
                .iter()
                .map(|(_, namespace, name)| (namespace.clone(), name.clone()))
                .collect();
            let failures = backend.mount_failures(&cluster, &wanted).await;
            (classes, failures)
        });
    let wrote_credentials = touched
        .iter()
        .any(|address| address.kind == ResourceKind::Federation);
    let mut warnings = Vec::new();
    for (classes, failures) in futures::future::join_all(reads).await {
        match failures {
            Ok(failures) => {
                for failure in failures
                    .into_iter()
                    .filter(|failure| failure.last_seen.is_none_or(|seen| seen >= since))
                {
                    let Some((address, _, _)) = classes.iter().find(|(_, namespace, name)| {
                        *namespace == failure.namespace && *name == failure.class
                    }) else {
                        continue;
                    };
                    let mut summary = failure.summary;
                    if wrote_credentials && summary.contains("AADSTS7002") {
                        summary.push_str(FRESH_CREDENTIAL_HINT);
                    }
                    warnings.push(MountWarning::Failing {
                        address: address.clone(),
                        namespace: failure.namespace,
                        pod: failure.pod,
                        summary,
                    });
                }
            }
            Err(error) => {
                warnings.extend(
                    classes
                        .into_iter()
                        .map(|(address, _, _)| MountWarning::Unread {
                            address,
                            error: error.to_string(),
                        }),
                )
            }
        }
    }
    warnings.sort_by_key(ToString::to_string);
    warnings
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::engine::backend::MountFailure;
    use crate::engine::testing::fake::FakeBackend;
    use crate::state::model::{ResourceState, attribute_map};

    /// A state with the class `payments/payments-api`, and a backend whose kubelet reports
    /// `summary` for a pod mounting it.
    fn with_failure(summary: &str) -> (FakeBackend, StateFile) {
        let backend = FakeBackend::with_cluster();
        backend
            .world
            .lock()
            .unwrap()
            .mount_failures
            .push(MountFailure {
                namespace: "payments".into(),
                class: "payments-api".into(),
                pod: "api".into(),
                summary: summary.into(),
                last_seen: None,
            });
        let mut state = StateFile::new();
        state.resources.insert(
            Address::spc("payments-api"),
            ResourceState {
                id: "spc".into(),
                attributes: attribute_map([
                    ("cluster", json!("aks-demo")),
                    ("resource_group", json!("rg-demo")),
                    ("namespace", json!("payments")),
                    ("name", json!("payments-api")),
                ]),
                derived: BTreeMap::new(),
                version: None,
                dependencies: Vec::new(),
                settings: crate::state::model::Attributes::new(),
            },
        );
        (backend, state)
    }

    #[tokio::test]
    async fn a_refused_exchange_after_new_credentials_says_entra_takes_a_while() {
        let refused =
            "… ClientAssertionCredential authentication failed. (AADSTS700213), seen 1 time(s)";
        let (backend, state) = with_failure(refused);
        let since = jiff::Timestamp::now();
        let spc = Address::spc("payments-api");
        let with_credential: BTreeSet<Address> =
            [spc.clone(), Address::federation("payments-api")].into();
        let warnings = mount_warnings(&backend, &state, &with_credential, since).await;
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].to_string().ends_with(FRESH_CREDENTIAL_HINT),
            "{}",
            warnings[0]
        );
        // Without a credential written, or for another failure, no such hint.
        let class_only: BTreeSet<Address> = [spc].into();
        let warnings = mount_warnings(&backend, &state, &class_only, since).await;
        assert!(!warnings[0].to_string().contains(FRESH_CREDENTIAL_HINT));
        let (backend, state) = with_failure("… (SecretNotFound), seen 1 time(s)");
        let warnings = mount_warnings(&backend, &state, &with_credential, since).await;
        assert!(!warnings[0].to_string().contains(FRESH_CREDENTIAL_HINT));
    }
}
