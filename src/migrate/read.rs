//! Reading one cluster for a migration: the objects the audit's workload scan walks, and the
//! contents of the Secrets the requested namespaces read — in memory only, never logged.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

use super::error::Error;
use super::model::{Request, SecretBytes, SecretContent};
use crate::audit::gather::read_objects;
use crate::audit::scan::ClusterObjects;
use crate::migrate::compute::wanted_secrets;
use crate::providers::kube::{KubeError, with_retries};

/// What [`read_cluster`] returns: the objects, and the Secrets that exist by
/// `(namespace, name)`.
pub type ClusterRead = (ClusterObjects, BTreeMap<(String, String), SecretContent>);

/// Reads `cluster` through `client` for `request`: the Secrets its workloads read, and
/// `also` (the Secrets `--finish` looks at).
pub async fn read_cluster(
    client: &kube::Client,
    cluster: &str,
    request: &Request,
    also: BTreeSet<(String, String)>,
) -> Result<ClusterRead, Error> {
    // The scan's objects only: not the classes or the kubelets' events the audit also reads.
    let objects = read_objects(client, cluster).await?;
    let mut contents = BTreeMap::new();
    let mut names = wanted_secrets(&objects, request);
    names.extend(also);
    for (namespace, name) in names {
        let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
        let found =
            with_retries(|| api.get_opt(&name))
                .await
                .map_err(|error| Error::ReadSecret {
                    cluster: cluster.to_owned(),
                    namespace: namespace.clone(),
                    name: name.clone(),
                    source: Box::new(
                        KubeError::from_kube("get", format!("secret `{namespace}/{name}`"), error)
                            .into(),
                    ),
                })?;
        if let Some(secret) = found {
            contents.insert((namespace, name), content_of(secret));
        }
    }
    Ok((objects, contents))
}

fn content_of(secret: Secret) -> SecretContent {
    SecretContent {
        secret_type: secret.type_.unwrap_or_else(|| "Opaque".to_owned()),
        labels: secret.metadata.labels.unwrap_or_default(),
        data: secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(key, bytes)| (key, SecretBytes::new(bytes.0)))
            .collect(),
    }
}
