//! Which credentials the plan's `[target] auth` and the environment make possible, in order.
//!
//! Pure: reads an [`Environment`], builds nothing and contacts nothing, so every selection rule
//! is a unit test. Building and trying the credentials is `sign_in`'s job.

use std::fmt;
use std::path::PathBuf;

use azure_core::credentials::Secret;

use crate::plan::model::AuthMethod;
use crate::providers::Environment;

/// The kinds of credential vaultwire can use, in the order `auth = "auto"` tries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CredentialKind {
    WorkloadIdentity,
    AzurePipelines,
    ClientSecret,
    ManagedIdentity,
    AzureCli,
}

impl CredentialKind {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::WorkloadIdentity => "workload identity federation",
            CredentialKind::AzurePipelines => "azure pipelines service connection",
            CredentialKind::ClientSecret => "client secret",
            CredentialKind::ManagedIdentity => "managed identity",
            CredentialKind::AzureCli => "azure cli",
        }
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A configured credential and what it needs to sign in. Secrets are azure_core `Secret`s, whose
/// `Debug` prints no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    WorkloadIdentity {
        client_id: String,
        token_file: PathBuf,
    },
    AzurePipelines {
        client_id: String,
        service_connection_id: String,
        system_access_token: Secret,
    },
    ClientSecret {
        client_id: String,
        client_secret: Secret,
    },
    /// `client_id` selects a user-assigned identity; `None` is the system-assigned one.
    ManagedIdentity {
        client_id: Option<String>,
    },
    AzureCli,
}

impl CredentialSource {
    pub fn kind(&self) -> CredentialKind {
        match self {
            CredentialSource::WorkloadIdentity { .. } => CredentialKind::WorkloadIdentity,
            CredentialSource::AzurePipelines { .. } => CredentialKind::AzurePipelines,
            CredentialSource::ClientSecret { .. } => CredentialKind::ClientSecret,
            CredentialSource::ManagedIdentity { .. } => CredentialKind::ManagedIdentity,
            CredentialSource::AzureCli => CredentialKind::AzureCli,
        }
    }
}

/// Why a credential could not be tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotUsable {
    /// These environment variables (alternatives joined by ` or `) are not set.
    Missing(Vec<&'static str>),
    /// The environment names another tenant than the plan's `tenant_id`; its tokens would be
    /// refused later with confusing 401s, so it is not used.
    TenantMismatch {
        variable: &'static str,
        value: String,
        plan: String,
    },
}

impl fmt::Display for NotUsable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotUsable::Missing(names) => {
                let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
                let verb = if names.len() == 1 { "is" } else { "are" };
                write!(f, "{} {verb} not set", names.join(", "))
            }
            NotUsable::TenantMismatch {
                variable,
                value,
                plan,
            } => write!(
                f,
                "`{variable}` is `{value}` but the plan targets tenant `{plan}`"
            ),
        }
    }
}

const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
const PIPELINES_SERVICE_CONNECTION_ID: &str = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID";
const PIPELINES_CLIENT_ID: &str = "AZURESUBSCRIPTION_CLIENT_ID";
const PIPELINES_TENANT_ID: &str = "AZURESUBSCRIPTION_TENANT_ID";
const SYSTEM_ACCESSTOKEN: &str = "SYSTEM_ACCESSTOKEN";
/// Read by azure_identity's `AzurePipelinesCredential` itself; checked here for a clear message.
const SYSTEM_OIDCREQUESTURI: &str = "SYSTEM_OIDCREQUESTURI";
const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
const MSI_ENDPOINT: &str = "MSI_ENDPOINT";

/// The credentials `method` selects, in the order to try them: each either configured, or the
/// reason it is not usable (kept so a final error can say what was tried).
pub fn candidates(
    method: &AuthMethod,
    env: &Environment,
    plan_tenant: &str,
) -> Vec<Result<CredentialSource, (CredentialKind, NotUsable)>> {
    let tag = |kind: CredentialKind| move |reason| (kind, reason);
    match method {
        AuthMethod::Auto => vec![
            workload_identity(env, plan_tenant).map_err(tag(CredentialKind::WorkloadIdentity)),
            azure_pipelines(env, plan_tenant, None).map_err(tag(CredentialKind::AzurePipelines)),
            client_secret(env, plan_tenant).map_err(tag(CredentialKind::ClientSecret)),
            // IMDS probing on a laptop only times out; without an identity endpoint in the
            // environment, `auto` leaves managed identity to an explicit `auth`.
            if env.is_set(IDENTITY_ENDPOINT) || env.is_set(MSI_ENDPOINT) {
                Ok(CredentialSource::ManagedIdentity {
                    client_id: env.get(AZURE_CLIENT_ID).map(str::to_owned),
                })
            } else {
                Err((
                    CredentialKind::ManagedIdentity,
                    NotUsable::Missing(vec!["IDENTITY_ENDPOINT or MSI_ENDPOINT"]),
                ))
            },
            Ok(CredentialSource::AzureCli),
        ],
        AuthMethod::WorkloadIdentity => {
            vec![workload_identity(env, plan_tenant).map_err(tag(CredentialKind::WorkloadIdentity))]
        }
        AuthMethod::AzurePipelines {
            service_connection_id,
        } => vec![
            azure_pipelines(env, plan_tenant, service_connection_id.as_deref())
                .map_err(tag(CredentialKind::AzurePipelines)),
        ],
        AuthMethod::ClientSecret => {
            vec![client_secret(env, plan_tenant).map_err(tag(CredentialKind::ClientSecret))]
        }
        AuthMethod::ManagedIdentity { client_id } => vec![Ok(CredentialSource::ManagedIdentity {
            client_id: client_id.clone(),
        })],
        AuthMethod::AzureCli => vec![Ok(CredentialSource::AzureCli)],
    }
}

/// Collects the values of required variables, naming every missing one at once.
fn required<const N: usize>(
    env: &Environment,
    names: [&'static str; N],
) -> Result<[String; N], NotUsable> {
    let missing: Vec<&'static str> = names
        .iter()
        .copied()
        .filter(|name| !env.is_set(name))
        .collect();
    if !missing.is_empty() {
        return Err(NotUsable::Missing(missing));
    }
    Ok(names.map(|name| env.get(name).unwrap_or_default().to_owned()))
}

fn same_tenant(env: &Environment, variable: &'static str, plan: &str) -> Result<(), NotUsable> {
    match env.get(variable) {
        Some(value) if !value.eq_ignore_ascii_case(plan) => Err(NotUsable::TenantMismatch {
            variable,
            value: value.to_owned(),
            plan: plan.to_owned(),
        }),
        _ => Ok(()),
    }
}

fn workload_identity(env: &Environment, plan_tenant: &str) -> Result<CredentialSource, NotUsable> {
    let [client_id, token_file] = required(env, [AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE])?;
    same_tenant(env, AZURE_TENANT_ID, plan_tenant)?;
    Ok(CredentialSource::WorkloadIdentity {
        client_id,
        token_file: PathBuf::from(token_file),
    })
}

fn azure_pipelines(
    env: &Environment,
    plan_tenant: &str,
    service_connection_id: Option<&str>,
) -> Result<CredentialSource, NotUsable> {
    let mut names = vec![
        PIPELINES_CLIENT_ID,
        SYSTEM_ACCESSTOKEN,
        SYSTEM_OIDCREQUESTURI,
    ];
    if service_connection_id.is_none() {
        names.insert(0, PIPELINES_SERVICE_CONNECTION_ID);
    }
    let missing: Vec<&'static str> = names.into_iter().filter(|name| !env.is_set(name)).collect();
    if !missing.is_empty() {
        return Err(NotUsable::Missing(missing));
    }
    same_tenant(env, PIPELINES_TENANT_ID, plan_tenant)?;
    let value = |name: &str| env.get(name).unwrap_or_default().to_owned();
    Ok(CredentialSource::AzurePipelines {
        client_id: value(PIPELINES_CLIENT_ID),
        service_connection_id: service_connection_id
            .map_or_else(|| value(PIPELINES_SERVICE_CONNECTION_ID), str::to_owned),
        system_access_token: Secret::new(value(SYSTEM_ACCESSTOKEN)),
    })
}

fn client_secret(env: &Environment, plan_tenant: &str) -> Result<CredentialSource, NotUsable> {
    let [client_id, client_secret] = required(env, [AZURE_CLIENT_ID, AZURE_CLIENT_SECRET])?;
    same_tenant(env, AZURE_TENANT_ID, plan_tenant)?;
    Ok(CredentialSource::ClientSecret {
        client_id,
        client_secret: Secret::new(client_secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = crate::sandbox::ids::TENANT_ID;

    fn kinds(
        candidates: &[Result<CredentialSource, (CredentialKind, NotUsable)>],
    ) -> Vec<(CredentialKind, bool)> {
        candidates
            .iter()
            .map(|candidate| match candidate {
                Ok(source) => (source.kind(), true),
                Err((kind, _)) => (*kind, false),
            })
            .collect()
    }

    #[test]
    fn auto_tries_every_kind_in_the_documented_order() {
        let found = candidates(&AuthMethod::Auto, &Environment::default(), TENANT);
        assert_eq!(
            kinds(&found),
            [
                (CredentialKind::WorkloadIdentity, false),
                (CredentialKind::AzurePipelines, false),
                (CredentialKind::ClientSecret, false),
                (CredentialKind::ManagedIdentity, false),
                (CredentialKind::AzureCli, true),
            ]
        );
    }

    #[test]
    fn auto_selects_workload_identity_from_the_github_oidc_variables() {
        let env = Environment::from_pairs([
            ("AZURE_CLIENT_ID", "client"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
        ]);
        let found = candidates(&AuthMethod::Auto, &env, TENANT);
        assert_eq!(
            found.first(),
            Some(&Ok(CredentialSource::WorkloadIdentity {
                client_id: "client".into(),
                token_file: PathBuf::from("/var/run/token"),
            }))
        );
    }

    #[test]
    fn missing_variables_are_all_named() {
        let env = Environment::from_pairs([("AZURE_TENANT_ID", TENANT)]);
        let found = candidates(&AuthMethod::ClientSecret, &env, TENANT);
        let Some(Err((_, reason))) = found.first() else {
            panic!("client secret needs variables: {found:?}");
        };
        assert_eq!(
            reason.to_string(),
            "`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` are not set"
        );
    }

    #[test]
    fn a_credential_for_another_tenant_is_not_used() {
        let env = Environment::from_pairs([
            ("AZURE_CLIENT_ID", "client"),
            ("AZURE_CLIENT_SECRET", "s3cret"),
            ("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000000"),
        ]);
        let found = candidates(&AuthMethod::ClientSecret, &env, TENANT);
        assert!(matches!(
            found.first(),
            Some(Err((
                _,
                NotUsable::TenantMismatch {
                    variable: "AZURE_TENANT_ID",
                    ..
                }
            )))
        ));
    }

    #[test]
    fn pipelines_take_the_service_connection_from_the_plan_over_the_environment() {
        let env = Environment::from_pairs([
            ("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "from-env"),
            ("AZURESUBSCRIPTION_CLIENT_ID", "client"),
            ("AZURESUBSCRIPTION_TENANT_ID", TENANT),
            ("SYSTEM_ACCESSTOKEN", "build-token"),
            (
                "SYSTEM_OIDCREQUESTURI",
                "https://dev.azure.com/org/_apis/oidc",
            ),
        ]);
        let method = AuthMethod::AzurePipelines {
            service_connection_id: Some("from-plan".into()),
        };
        let found = candidates(&method, &env, TENANT);
        let Some(Ok(CredentialSource::AzurePipelines {
            service_connection_id,
            ..
        })) = found.first()
        else {
            panic!("pipelines are configured: {found:?}");
        };
        assert_eq!(service_connection_id, "from-plan");
    }

    #[test]
    fn auto_uses_managed_identity_only_where_an_identity_endpoint_exists() {
        let env = Environment::from_pairs([
            ("IDENTITY_ENDPOINT", "http://169.254.169.254/"),
            ("AZURE_CLIENT_ID", "uami-client"),
        ]);
        let found = candidates(&AuthMethod::Auto, &env, TENANT);
        assert!(found.contains(&Ok(CredentialSource::ManagedIdentity {
            client_id: Some("uami-client".into())
        })));
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let env = Environment::from_pairs([
            ("AZURE_CLIENT_ID", "client"),
            ("AZURE_CLIENT_SECRET", "super-secret-value"),
        ]);
        let found = candidates(&AuthMethod::ClientSecret, &env, TENANT);
        let debug = format!("{found:?}");
        assert!(debug.contains("client"));
        assert!(!debug.contains("super-secret-value"), "{debug}");
    }
}
