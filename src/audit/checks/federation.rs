//! `spc-federation`: a SecretProviderClass read by a workload identity (`clientID`) works only
//! when the identity has a federated credential that trusts the cluster's OIDC issuer for the
//! service account of each pod that mounts the class — the commonest failure (a pod on
//! `default`, a typo in the subject, an issuer without its trailing slash), which Entra reports
//! only when a pod mounts (AADSTS700211/700213). Judged from ARM and the pods' specs. Pure.

use serde_json::Value;

use super::spc::Subject;
use crate::audit::catalog::CheckId;
use crate::audit::gather::Gathered;
use crate::audit::model::{Check, Evidence, Status};
use crate::audit::scan::WorkloadKind;
use crate::plan::model::{Plan, Spc, SpcIdentity};
use crate::providers::azure::msi::FederatedCredential;
use crate::providers::kube::mounts_class;

/// The audience the CSI driver requests service-account tokens for.
const AUDIENCE: &str = "api://AzureADTokenExchange";

/// The check, for classes read by a workload identity; `None` for the add-on identity, which
/// needs no federation.
pub fn check(plan: &Plan, key: &str, spc: &Spc, gathered: &Gathered) -> Option<Check> {
    if matches!(spc.identity.value, SpcIdentity::Addon(_)) {
        return None;
    }
    let subject = Subject::of(plan, key, spc);
    let new =
        |status: Status, message: String| subject.check(CheckId::SpcFederation, status, message);
    let Some(client_id) = gathered.workload_client_id(spc) else {
        return Some(new(
            CheckId::SpcFederation.severity(),
            "the SecretProviderClass's managed identity does not exist".to_owned(),
        ));
    };
    let Some(cluster) = gathered.clusters.get(spc.addon.as_str()) else {
        return Some(new(Status::Skip, "the cluster was not read".to_owned()));
    };
    let Some(issuer) = cluster.oidc_issuer.as_deref() else {
        return Some(new(
            CheckId::SpcFederation.severity(),
            format!(
                "the OIDC issuer of `{}` is not enabled: Entra cannot verify the pods' service-account tokens",
                subject.cluster
            ),
        ));
    };
    if cluster
        .addon
        .as_ref()
        .is_some_and(|addon| !addon.workload_identity)
    {
        return Some(new(
            CheckId::SpcFederation.severity(),
            format!(
                "workload identity is not enabled on `{}` (`securityProfile.workloadIdentity.enabled`): set `workload_identity = true` on the plan's add-on",
                subject.cluster
            ),
        ));
    }
    let credentials = match gathered.identities.get(&client_id.to_ascii_lowercase()) {
        Some(Some(credentials)) => credentials,
        Some(None) => {
            return Some(new(
                Status::Skip,
                format!(
                    "`{client_id}` is not a user-assigned identity of the subscription (an app registration's credentials are in Microsoft Graph, which the audit does not read)"
                ),
            ));
        }
        None => return Some(new(Status::Skip, "the identity was not read".to_owned())),
    };
    let wanted = service_accounts(gathered, spc, &subject);
    let mut evidence = Vec::new();
    let mut missing = 0;
    for (account, pods) in &wanted {
        let sub = format!("system:serviceaccount:{}:{account}", subject.namespace);
        let trusted = credentials.iter().find(|credential| {
            credential.issuer == issuer
                && credential.subject == sub
                && credential
                    .audiences
                    .iter()
                    .any(|audience| audience == AUDIENCE)
        });
        let detail = match trusted {
            Some(credential) => format!(
                "service account `{account}` (pods {pods}) is trusted by federated credential `{}`",
                credential.name
            ),
            None => {
                missing += 1;
                format!(
                    "service account `{account}` (pods {pods}) is trusted by no federated credential{}",
                    near_miss(credentials, issuer, &sub)
                )
            }
        };
        evidence.push(Evidence {
            resource: subject.cluster.clone(),
            namespace: Some(subject.namespace.clone()),
            kind: "ServiceAccount".to_owned(),
            name: account.clone(),
            field: Some("federatedIdentityCredentials".to_owned()),
            secret: None,
            detail,
        });
    }
    if wanted.is_empty() {
        // No pod mounts it yet: some service account of the namespace must be trusted.
        let prefix = format!("system:serviceaccount:{}:", subject.namespace);
        let any: Vec<&FederatedCredential> = credentials
            .iter()
            .filter(|credential| {
                credential.issuer == issuer && credential.subject.starts_with(&prefix)
            })
            .collect();
        return Some(if any.is_empty() {
            new(
                CheckId::SpcFederation.severity(),
                format!(
                    "no federated credential of `{client_id}` trusts a service account of `{}` on this cluster's issuer",
                    subject.namespace
                ),
            )
        } else {
            let names: Vec<&str> = any
                .iter()
                .map(|credential| credential.subject.as_str())
                .collect();
            new(
                Status::Pass,
                format!("no pod mounts it yet; trusted: {}", names.join(", ")),
            )
        });
    }
    let check = if missing == 0 {
        new(
            Status::Pass,
            format!("`{client_id}` trusts the service account of every pod that mounts it"),
        )
    } else {
        new(
            CheckId::SpcFederation.severity(),
            format!(
                "{missing} service account(s) of pods that mount it are not trusted by `{client_id}`: Entra refuses their tokens (AADSTS700211/700213)"
            ),
        )
    };
    Some(check.with_evidence(evidence))
}

/// `(service account, "pod, pod")` of the pods in the class's namespace that mount it, sorted.
fn service_accounts(gathered: &Gathered, spc: &Spc, subject: &Subject) -> Vec<(String, String)> {
    let mut accounts: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let pods = gathered
        .clusters
        .get(spc.addon.as_str())
        .and_then(|cluster| cluster.kubernetes.as_ref())
        .and_then(|kubernetes| kubernetes.objects.workloads.get(&WorkloadKind::Pod));
    for pod in pods.into_iter().flatten() {
        let text = |pointer: &str| pod.pointer(pointer).and_then(Value::as_str);
        if text("/metadata/namespace") != Some(subject.namespace.as_str())
            || !mounts_class(pod, &subject.name)
        {
            continue;
        }
        let account = text("/spec/serviceAccountName")
            .unwrap_or("default")
            .to_owned();
        let name = text("/metadata/name").unwrap_or_default().to_owned();
        accounts.entry(account).or_default().push(name);
    }
    accounts
        .into_iter()
        .map(|(account, pods)| (account, pods.join(", ")))
        .collect()
}

/// What comes close, for a subject no credential trusts: the same subject under another
/// issuer (often a missing trailing slash).
fn near_miss(credentials: &[FederatedCredential], issuer: &str, subject: &str) -> String {
    match credentials
        .iter()
        .find(|credential| credential.subject == subject && credential.issuer != issuer)
    {
        Some(credential) => format!(
            " (`{}` trusts it under issuer `{}`, not the cluster's `{issuer}`)",
            credential.name, credential.issuer
        ),
        None => String::new(),
    }
}
