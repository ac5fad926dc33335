//! Every way one pod spec consumes a Kubernetes Secret: environment variables, `envFrom`,
//! secret volumes, projected secret sources, CSI `nodePublishSecretRef`, and image pull
//! secrets.
//!
//! Pure. Reads names only — of containers, variables, volumes, Secrets and keys — never an
//! `env[].value` (which could be a literal secret).

use serde_json::Value;

use super::objects::text;

/// The Secrets Store CSI driver's name.
pub const CSI_DRIVER: &str = "secrets-store.csi.k8s.io";

/// How a pod spec uses a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UseKind {
    /// `env[].valueFrom.secretKeyRef`.
    EnvKeyRef,
    /// `envFrom[].secretRef`.
    EnvFrom,
    /// `volumes[].secret`.
    Volume,
    /// `volumes[].projected.sources[].secret`.
    ProjectedVolume,
    /// `volumes[].csi.nodePublishSecretRef` of a Secrets Store CSI volume.
    CsiNodePublish,
}

impl UseKind {
    /// Whether the Secret's values end up in environment variables (CIS AKS 4.5.1).
    pub fn is_env(self) -> bool {
        matches!(self, UseKind::EnvKeyRef | UseKind::EnvFrom)
    }
}

/// One use of a Secret inside a pod spec.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretUse {
    pub kind: UseKind,
    pub secret: String,
    /// The field, relative to the pod spec, such as `containers[0].env[1].valueFrom.secretKeyRef`.
    pub field: String,
    /// What happens, in words: "container `api` reads key `password` … into env var …".
    pub detail: String,
    /// Identifies the use independently of list positions, so the same use seen in a Pod and
    /// in its Deployment's template counts once.
    pub identity: String,
    /// Who reads it: a container, or a volume (which containers then mount).
    pub reader: Reader,
}

/// The part of a pod spec that reads a Secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reader {
    /// A container of `list` (`containers`, `initContainers`, `ephemeralContainers`), through
    /// its environment; `variable` is `None` for `envFrom`.
    Container {
        list: String,
        name: String,
        variable: Option<String>,
        key: Option<String>,
    },
    /// A volume of the pod.
    Volume { name: String },
}

fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// The container lists of a pod spec and how a finding names a container of each.
const CONTAINER_LISTS: [(&str, &str); 3] = [
    ("initContainers", "init container"),
    ("containers", "container"),
    ("ephemeralContainers", "ephemeral container"),
];

/// Every Secret use of `pod_spec`, in spec order.
pub fn secret_uses(pod_spec: &Value) -> Vec<SecretUse> {
    let mut uses = Vec::new();
    for (list, noun) in CONTAINER_LISTS {
        for (index, container) in items(pod_spec, list) {
            let container_name = text(container, "/name").unwrap_or("?");
            let at = format!("{list}[{index}]");
            for (env_index, env) in items(container, "env") {
                let Some(reference) = env.pointer("/valueFrom/secretKeyRef") else {
                    continue;
                };
                let Some(secret) = text(reference, "/name") else {
                    continue;
                };
                let variable = text(env, "/name").unwrap_or("?");
                let key = text(reference, "/key").unwrap_or("?");
                uses.push(SecretUse {
                    kind: UseKind::EnvKeyRef,
                    secret: secret.to_owned(),
                    field: format!("{at}.env[{env_index}].valueFrom.secretKeyRef"),
                    detail: format!(
                        "{noun} `{container_name}` reads key `{key}` of Secret `{secret}` into env var `{variable}`"
                    ),
                    identity: format!("env|{list}|{container_name}|{variable}|{secret}|{key}"),
                    reader: Reader::Container {
                        list: list.to_owned(),
                        name: container_name.to_owned(),
                        variable: Some(variable.to_owned()),
                        key: Some(key.to_owned()),
                    },
                });
            }
            for (from_index, from) in items(container, "envFrom") {
                let Some(secret) = text(from, "/secretRef/name") else {
                    continue;
                };
                uses.push(SecretUse {
                    kind: UseKind::EnvFrom,
                    secret: secret.to_owned(),
                    field: format!("{at}.envFrom[{from_index}].secretRef"),
                    detail: format!(
                        "{noun} `{container_name}` reads every key of Secret `{secret}` into its environment (envFrom)"
                    ),
                    identity: format!("envFrom|{list}|{container_name}|{secret}"),
                    reader: Reader::Container {
                        list: list.to_owned(),
                        name: container_name.to_owned(),
                        variable: None,
                        key: None,
                    },
                });
            }
        }
    }
    for (index, volume) in items(pod_spec, "volumes") {
        let volume_name = text(volume, "/name").unwrap_or("?");
        let at = format!("volumes[{index}]");
        if let Some(secret) = text(volume, "/secret/secretName") {
            uses.push(SecretUse {
                kind: UseKind::Volume,
                secret: secret.to_owned(),
                field: format!("{at}.secret"),
                detail: format!("volume `{volume_name}` mounts Secret `{secret}` as files"),
                identity: format!("volume|{volume_name}|{secret}"),
                reader: Reader::Volume {
                    name: volume_name.to_owned(),
                },
            });
        }
        for (source_index, source) in
            items(volume.get("projected").unwrap_or(&Value::Null), "sources")
        {
            let Some(secret) = text(source, "/secret/name") else {
                continue;
            };
            uses.push(SecretUse {
                kind: UseKind::ProjectedVolume,
                secret: secret.to_owned(),
                field: format!("{at}.projected.sources[{source_index}].secret"),
                detail: format!(
                    "projected volume `{volume_name}` mounts Secret `{secret}` as files"
                ),
                identity: format!("projected|{volume_name}|{secret}"),
                reader: Reader::Volume {
                    name: volume_name.to_owned(),
                },
            });
        }
        if text(volume, "/csi/driver") == Some(CSI_DRIVER)
            && let Some(secret) = text(volume, "/csi/nodePublishSecretRef/name")
        {
            let class = text(volume, "/csi/volumeAttributes/secretProviderClass").unwrap_or("?");
            uses.push(SecretUse {
                kind: UseKind::CsiNodePublish,
                secret: secret.to_owned(),
                field: format!("{at}.csi.nodePublishSecretRef"),
                detail: format!(
                    "CSI volume `{volume_name}` (SecretProviderClass `{class}`) reads Key Vault with credentials from Secret `{secret}`"
                ),
                identity: format!("csi|{volume_name}|{secret}"),
                reader: Reader::Volume {
                    name: volume_name.to_owned(),
                },
            });
        }
    }
    uses
}

/// The names in `imagePullSecrets`.
pub fn image_pull_secrets(pod_spec: &Value) -> Vec<String> {
    items(pod_spec, "imagePullSecrets")
        .filter_map(|(_, entry)| text(entry, "/name").map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn env_env_from_and_every_container_list_are_found_with_their_fields() {
        let spec = json!({
            "initContainers": [{"name": "init", "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}}]}],
            "containers": [{"name": "app", "env": [
                {"name": "PLAIN", "value": "literal-value-never-read"},
                {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}
            ], "envFrom": [{"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "s2"}}]}],
            "ephemeralContainers": [{"name": "debug", "envFrom": [{"secretRef": {"name": "s3"}}]}]
        });
        let uses = secret_uses(&spec);
        let fields: Vec<(&str, UseKind, &str)> = uses
            .iter()
            .map(|u| (u.secret.as_str(), u.kind, u.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (
                    "s1",
                    UseKind::EnvKeyRef,
                    "initContainers[0].env[0].valueFrom.secretKeyRef"
                ),
                ("s2", UseKind::EnvFrom, "containers[0].envFrom[1].secretRef"),
                (
                    "s3",
                    UseKind::EnvFrom,
                    "ephemeralContainers[0].envFrom[0].secretRef"
                ),
            ]
        );
        assert_eq!(
            uses[0].detail,
            "init container `init` reads key `k` of Secret `s1` into env var `T`"
        );
        assert!(!format!("{uses:?}").contains("literal-value-never-read"));
    }

    #[test]
    fn volumes_projected_sources_and_csi_credentials_are_found_but_token_volumes_are_not() {
        let spec = json!({"volumes": [
            {"name": "tls", "secret": {"secretName": "cert"}},
            {"name": "kube-api-access-abcde", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": []}}
            ]}},
            {"name": "mixed", "projected": {"sources": [{"configMap": {"name": "c"}}, {"secret": {"name": "p"}}]}},
            {"name": "kv", "csi": {"driver": "secrets-store.csi.k8s.io", "volumeAttributes": {"secretProviderClass": "spc"}}},
            {"name": "kv-sp", "csi": {"driver": "secrets-store.csi.k8s.io", "volumeAttributes": {"secretProviderClass": "spc"}, "nodePublishSecretRef": {"name": "creds"}}},
            {"name": "other-csi", "csi": {"driver": "file.csi.azure.com", "nodePublishSecretRef": {"name": "storage"}}}
        ], "imagePullSecrets": [{"name": "registry"}]});
        let uses = secret_uses(&spec);
        let fields: Vec<(&str, UseKind, &str)> = uses
            .iter()
            .map(|u| (u.secret.as_str(), u.kind, u.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("cert", UseKind::Volume, "volumes[0].secret"),
                (
                    "p",
                    UseKind::ProjectedVolume,
                    "volumes[2].projected.sources[1].secret"
                ),
                (
                    "creds",
                    UseKind::CsiNodePublish,
                    "volumes[4].csi.nodePublishSecretRef"
                ),
            ]
        );
        assert_eq!(image_pull_secrets(&spec), ["registry"]);
    }
}
