//! `spc-exists`, `spc-matches-plan`, `spc-vault` and `spc-identity`: each SecretProviderClass
//! of the plan against the cluster. Pure.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::audit::catalog::CheckId;
use crate::audit::gather::Gathered;
use crate::audit::model::{Check, Evidence, Status};
use crate::plan::model::{Plan, Spc, SpcIdentity};
use crate::providers::kube::LiveSpc;
use crate::resources::context::{AddonIdentity, Context, Derived};

const KIND: &str = "SecretProviderClass";

/// The live SecretProviderClass of `spc`, or why there is none.
pub fn live<'a>(plan: &Plan, spc: &Spc, gathered: &'a Gathered) -> Result<&'a LiveSpc, String> {
    let cluster = plan
        .addons
        .get(spc.addon.as_str())
        .map_or(spc.addon.as_str(), |addon| addon.cluster.as_str());
    let kubernetes = gathered
        .clusters
        .get(spc.addon.as_str())
        .and_then(|data| data.kubernetes.as_ref())
        .ok_or_else(|| format!("aks cluster `{cluster}` does not exist"))?;
    let spcs = kubernetes.spcs.as_ref().ok_or_else(|| {
        format!(
            "`{cluster}` does not serve SecretProviderClasses: the Key Vault add-on is not enabled"
        )
    })?;
    spcs.iter()
        .find(|live| live.namespace == spc.namespace.value && live.name == spc.name.value)
        .ok_or_else(|| {
            format!(
                "SecretProviderClass `{}/{}` does not exist in `{cluster}`",
                spc.namespace.value, spc.name.value
            )
        })
}

/// The add-on identity the cluster of `[addon.KEY]` has now.
pub fn addon_identity<'a>(
    gathered: &'a Gathered,
    addon_key: &str,
) -> Option<&'a crate::providers::azure::aks::AddonIdentity> {
    gathered
        .clusters
        .get(addon_key)
        .and_then(|data| data.addon.as_ref())
        .filter(|addon| addon.enabled)
        .and_then(|addon| addon.identity.as_ref())
}

/// Values derived from live Azure, as the engine would compute them now.
fn derived(gathered: &Gathered) -> Derived {
    let mut derived = Derived::default();
    for key in gathered.clusters.keys() {
        if let Some(identity) = addon_identity(gathered, key) {
            derived.addon_identities.insert(
                key.clone(),
                AddonIdentity {
                    client_id: identity.client_id.clone(),
                    object_id: identity.object_id.clone(),
                    resource_id: identity.resource_id.clone(),
                },
            );
        }
    }
    for (key, identity) in &gathered.managed_identities {
        derived.identities.insert(
            key.clone(),
            crate::resources::IdentityIds {
                client_id: identity.client_id.clone(),
                principal_id: identity.principal_id.clone(),
            },
        );
    }
    derived
}

fn evidence(subject: &Subject, field: &str, detail: String) -> Evidence {
    Evidence {
        resource: subject.cluster.clone(),
        namespace: Some(subject.namespace.clone()),
        kind: KIND.to_owned(),
        name: subject.name.clone(),
        field: Some(field.to_owned()),
        secret: None,
        detail,
    }
}

/// Who a SecretProviderClass check is about.
pub struct Subject {
    pub address: String,
    pub cluster: String,
    pub namespace: String,
    pub name: String,
}

impl Subject {
    pub fn of(plan: &Plan, key: &str, spc: &Spc) -> Self {
        Self {
            address: format!("spc.{key}"),
            cluster: plan.addons.get(spc.addon.as_str()).map_or_else(
                || spc.addon.value.clone(),
                |addon| addon.cluster.value.clone(),
            ),
            namespace: spc.namespace.value.clone(),
            name: spc.name.value.clone(),
        }
    }

    pub fn check(&self, id: CheckId, status: Status, message: impl Into<String>) -> Check {
        let subject = format!("{}/{}/{}", self.cluster, self.namespace, self.name);
        Check::new(id, &self.address, subject, status, message)
    }

    pub fn evidence(&self, field: &str, detail: String) -> Evidence {
        evidence(self, field, detail)
    }
}

/// The four checks of `[spc.KEY]` against the cluster.
pub fn check(plan: &Plan, key: &str, spc: &Spc, gathered: &Gathered) -> Vec<Check> {
    let subject = Subject::of(plan, key, spc);
    let live = match live(plan, spc, gathered) {
        Ok(live) => live,
        Err(reason) => {
            let skip = |id| subject.check(id, Status::Skip, reason.clone());
            return vec![
                subject.check(CheckId::SpcExists, Status::Fail, reason.clone()),
                skip(CheckId::SpcMatchesPlan),
                skip(CheckId::SpcVault),
                skip(CheckId::SpcIdentity),
            ];
        }
    };
    let exists = subject
        .check(
            CheckId::SpcExists,
            Status::Pass,
            "the SecretProviderClass exists",
        )
        .with_evidence(vec![subject.evidence(
            "metadata.resourceVersion",
            format!(
                "resourceVersion `{}`",
                live.resource_version.as_deref().unwrap_or("?")
            ),
        )]);
    vec![
        exists,
        matches_plan(plan, spc, live, gathered, &subject),
        vault(plan, spc, live, gathered, &subject),
        identity(spc, live, gathered, &subject),
    ]
}

fn matches_plan(
    plan: &Plan,
    spc: &Spc,
    live: &LiveSpc,
    gathered: &Gathered,
    subject: &Subject,
) -> Check {
    let Some(vault) = plan.vaults.get(spc.vault.as_str()) else {
        return subject.check(
            CheckId::SpcMatchesPlan,
            Status::Skip,
            "the plan names no such vault",
        );
    };
    let desired =
        crate::resources::spc::manifest(spc, &vault.name, &Context::of(plan), &derived(gathered));
    let differences = differences(&desired, &live.manifest);
    if differences.is_empty() {
        return subject.check(
            CheckId::SpcMatchesPlan,
            Status::Pass,
            "the SecretProviderClass is what the plan renders",
        );
    }
    let evidence = differences
        .into_iter()
        .map(|(field, detail)| subject.evidence(&field, detail))
        .collect();
    subject
        .check(
            CheckId::SpcMatchesPlan,
            Status::Fail,
            "the SecretProviderClass differs from the plan",
        )
        .with_evidence(evidence)
}

/// `field → "live …, plan …"` for every leaf that differs.
fn differences(desired: &Value, live: &Value) -> BTreeMap<String, String> {
    let (mut want, mut have) = (BTreeMap::new(), BTreeMap::new());
    flatten("", desired, &mut want);
    flatten("", live, &mut have);
    let show = |value: Option<&Value>| match value {
        None | Some(Value::Null) => "absent".to_owned(),
        Some(Value::String(text)) if text.len() <= 80 && !text.contains('\n') => {
            format!("`{text}`")
        }
        Some(Value::String(_)) => "a different value".to_owned(),
        Some(other) => format!("`{other}`"),
    };
    want.keys()
        .chain(have.keys())
        .filter(|field| want.get(*field) != have.get(*field))
        .map(|field| {
            let (plan_value, live_value) = (want.get(field), have.get(field));
            let long = |value: Option<&Value>| {
                matches!(value, Some(Value::String(text)) if text.len() > 80 || text.contains('\n'))
            };
            let detail = if plan_value.is_some() && live_value.is_some() && (long(plan_value) || long(live_value)) {
                "differs from the plan".to_owned()
            } else {
                format!("live {}, plan {}", show(live_value), show(plan_value))
            };
            (field.clone(), detail)
        })
        .collect()
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                flatten(&join(key), child, out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{index}]"), child, out);
            }
        }
        Value::Null => {}
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

fn vault(plan: &Plan, spc: &Spc, live: &LiveSpc, gathered: &Gathered, subject: &Subject) -> Check {
    let field = "spec.parameters.keyvaultName";
    let Some(named) = live.parameter("keyvaultName") else {
        return subject
            .check(
                CheckId::SpcVault,
                Status::Fail,
                "the SecretProviderClass names no vault",
            )
            .with_evidence(vec![subject.evidence(field, "absent".to_owned())]);
    };
    let exists = gathered
        .vaults
        .values()
        .filter_map(|data| data.vault.as_ref())
        .any(|vault| vault.name.eq_ignore_ascii_case(named));
    let plan_vault = plan
        .vaults
        .get(spc.vault.as_str())
        .map(|vault| vault.name.value.as_str());
    let (status, message) = if exists {
        (Status::Pass, format!("key vault `{named}` exists"))
    } else if plan_vault.is_some_and(|name| name.eq_ignore_ascii_case(named)) {
        (Status::Fail, format!("key vault `{named}` does not exist"))
    } else {
        (
            Status::Fail,
            format!(
                "names key vault `{named}`, which is not the plan's vault `{}`",
                plan_vault.unwrap_or("?")
            ),
        )
    };
    subject
        .check(CheckId::SpcVault, status, message)
        .with_evidence(vec![subject.evidence(field, format!("`{named}`"))])
}

fn identity(spc: &Spc, live: &LiveSpc, gathered: &Gathered, subject: &Subject) -> Check {
    let parameter = |name: &str| live.parameter(name);
    let (field, expected, what) = match &spc.identity.value {
        SpcIdentity::Addon(addon) => {
            let Some(identity) = addon_identity(gathered, addon.as_str()) else {
                return subject.check(
                    CheckId::SpcIdentity,
                    Status::Fail,
                    format!("the add-on of `addon.{}` has no identity", addon.value),
                );
            };
            if parameter("useVMManagedIdentity") != Some("true") {
                return subject
                    .check(
                        CheckId::SpcIdentity,
                        Status::Fail,
                        "the SecretProviderClass does not use the add-on identity",
                    )
                    .with_evidence(vec![subject.evidence(
                        "spec.parameters.useVMManagedIdentity",
                        format!(
                            "`{}`",
                            parameter("useVMManagedIdentity").unwrap_or("absent")
                        ),
                    )]);
            }
            (
                "userAssignedIdentityID",
                identity.client_id.clone(),
                "the current add-on identity",
            )
        }
        SpcIdentity::Identity(key) => {
            let Some(client_id) = gathered.workload_client_id(spc) else {
                return subject.check(
                    CheckId::SpcIdentity,
                    Status::Fail,
                    format!("managed identity `identity.{}` does not exist", key.value),
                );
            };
            ("clientID", client_id, "the plan's managed identity")
        }
        SpcIdentity::WorkloadIdentity { client_id } => (
            "clientID",
            client_id.clone(),
            "the plan's workload identity",
        ),
    };
    let actual = parameter(field).unwrap_or("absent");
    let status = if actual.eq_ignore_ascii_case(&expected) {
        Status::Pass
    } else {
        Status::Fail
    };
    let message = match status {
        Status::Pass => format!("uses {what} `{expected}`"),
        _ => format!("uses `{actual}`, not {what} `{expected}`"),
    };
    subject
        .check(CheckId::SpcIdentity, status, message)
        .with_evidence(vec![
            subject.evidence(&format!("spec.parameters.{field}"), format!("`{actual}`")),
        ])
}
