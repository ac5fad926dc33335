//! Before apply: pods that mount a SecretProviderClass reading as one of the plan's managed
//! identities while running as a service account the identity does not trust. Entra refuses
//! their tokens (AADSTS700213) and the kubelet keeps failing their mounts, so `plan` says so
//! while it can still be fixed in review. A warning: the pods are not the plan's.

use std::collections::BTreeMap;

use crate::engine::backend::{Backend, ClusterKey, ClusterRef};
use crate::plan::model::{Plan, SpcIdentity};

/// A cluster's classes that read as an identity: by (namespace, name), the class's key and
/// the identity's.
type Classes<'p> = BTreeMap<(String, String), (&'p str, &'p str)>;

/// One warning per pod on an untrusted service account, sorted, or one per cluster whose
/// pods could not be read. One LIST per namespace of such classes, every cluster at once;
/// nothing is read when no class reads as a managed identity.
pub async fn federation_warnings<B: Backend>(backend: &B, plan: &Plan) -> Vec<String> {
    // Per cluster: the classes reading as an identity, by (namespace, name).
    let mut by_cluster: BTreeMap<ClusterKey, (ClusterRef, Classes<'_>)> = BTreeMap::new();
    for (key, spc) in &plan.spcs {
        let SpcIdentity::Identity(identity) = &spc.identity.value else {
            continue;
        };
        let Some(addon) = plan.addons.get(spc.addon.as_str()) else {
            continue;
        };
        let cluster = ClusterRef {
            key: ClusterKey::new(&addon.resource_group, &addon.cluster),
            kube_context: addon.kube_context.as_ref().map(|c| c.value.clone()),
        };
        by_cluster
            .entry(cluster.key.clone())
            .or_insert_with(|| (cluster, BTreeMap::new()))
            .1
            .insert(
                (spc.namespace.value.clone(), spc.name.value.clone()),
                (key.as_str(), identity.as_str()),
            );
    }
    let reads = by_cluster
        .into_values()
        .map(|(cluster, classes)| async move {
            let names: Vec<(String, String)> = classes.keys().cloned().collect();
            let pods = backend.pods_mounting(&cluster, &names).await;
            (cluster, classes, pods)
        });
    let mut warnings = Vec::new();
    for (cluster, classes, pods) in futures::future::join_all(reads).await {
        let pods = match pods {
            Ok(pods) => pods,
            Err(error) => {
                warnings.push(format!(
                    "the pods of cluster `{}` that mount a workload-identity SecretProviderClass could not be read: {error}",
                    cluster.key.name
                ));
                continue;
            }
        };
        for pod in pods {
            let Some((spc_key, identity)) =
                classes.get(&(pod.namespace.clone(), pod.class.clone()))
            else {
                continue;
            };
            let Some(spc) = plan.spcs.get(*spc_key) else {
                continue;
            };
            let trusted: Vec<&str> = plan
                .federations
                .values()
                .filter(|federation| {
                    federation.identity.value == *identity
                        && federation.addon.value == spc.addon.value
                        && federation.namespace.value == pod.namespace
                })
                .map(|federation| federation.service_account.as_str())
                .collect();
            if trusted.contains(&pod.service_account.as_str()) {
                continue;
            }
            let trusted = match trusted.as_slice() {
                [] => "no service account of its namespace".to_owned(),
                accounts => accounts
                    .iter()
                    .map(|account| format!("`{account}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            warnings.push(format!(
                "spc.{spc_key}: pod {}/{} runs as service account `{}`, but identity `{identity}` trusts {trusted} there: its mounts fail with AADSTS700213 until the pod runs as a trusted account or a `[federation]` trusts `system:serviceaccount:{}:{}`",
                pod.namespace, pod.pod, pod.service_account, pod.namespace, pod.service_account
            ));
        }
    }
    warnings
}
