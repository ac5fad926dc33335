//! `spc-objects`: every secret and certificate a SecretProviderClass of the plan mounts exists
//! in its vault, by name (the Key Vault data plane's secret list, which includes the secrets
//! backing certificates). Pure.

use super::spc::Subject;
use crate::audit::catalog::CheckId;
use crate::audit::gather::{Gathered, SecretListing};
use crate::audit::model::{Check, Evidence, Status};
use crate::plan::model::{ObjectType, Plan, Spc};

pub fn check(plan: &Plan, key: &str, spc: &Spc, gathered: &Gathered) -> Check {
    let subject = Subject::of(plan, key, spc);
    let skip = |reason: String| subject.check(CheckId::SpcObjects, Status::Skip, reason);
    let data = gathered.vaults.get(spc.vault.as_str());
    let Some(vault) = data.and_then(|data| data.vault.as_ref()) else {
        return skip(format!(
            "the vault of `vault.{}` does not exist",
            spc.vault.value
        ));
    };
    let names = match data.map(|data| &data.secrets) {
        Some(SecretListing::Listed(names)) => names,
        Some(SecretListing::Denied { reason }) => {
            return skip(format!(
                "vaultwire may not list the secrets of `{}`: {reason}",
                vault.name
            ));
        }
        _ => return skip(format!("the secrets of `{}` were not read", vault.name)),
    };
    let mut missing = 0;
    let mut evidence = Vec::new();
    for object in &spc.objects {
        let name = object.name.value.as_str();
        let what = match object.object_type {
            ObjectType::Secret => "secret",
            ObjectType::Cert => "certificate",
            ObjectType::Key => "key",
        };
        let detail = if object.object_type == ObjectType::Key {
            format!("{what} `{name}`: not checked (keys are not in the secrets list)")
        } else if names.contains(&name.to_ascii_lowercase()) {
            format!("{what} `{name}` exists")
        } else {
            missing += 1;
            format!("{what} `{name}` does not exist")
        };
        evidence.push(Evidence {
            resource: vault.name.clone(),
            namespace: None,
            kind: "Microsoft.KeyVault/vaults".to_owned(),
            name: vault.name.clone(),
            field: Some(format!("secrets/{name}")),
            secret: None,
            detail,
        });
    }
    let (status, message) = if missing == 0 {
        (
            Status::Pass,
            format!("every object exists in `{}`", vault.name),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{missing} of {} objects do not exist in `{}`",
                spc.objects.len(),
                vault.name
            ),
        )
    };
    subject
        .check(CheckId::SpcObjects, status, message)
        .with_evidence(evidence)
}
