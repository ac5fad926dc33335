//! Connecting a command to its target: sign in to Azure (or the sandbox) and build the backend
//! the engine talks through.
//!
//! A plan with `cloud = "sandbox"` needs no setup: with `VAULTWIRE_SANDBOX_ENDPOINT` set (the
//! user sourced a served sandbox's `env` file) that server is used; else a `vaultwire sandbox
//! serve` running on `.vaultwire/sandbox` is found and used; else a sandbox is started in this
//! process on an ephemeral port, sharing that directory's persisted world.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::commands::common::LoadedPlan;
use crate::error::Error;
use crate::plan::model::Cloud;
use crate::providers::Environment;
use crate::providers::azure::cloud::{SANDBOX_CA_VAR, SANDBOX_ENDPOINT_VAR};
use crate::providers::backend::{AzureBackend, provider_error};
use crate::providers::session::AzureSession;
use crate::sandbox::handle::{Sandbox, SandboxHandle};
use crate::sandbox::ids;
use crate::sandbox::options::SandboxOptions;

/// The sandbox directory commands share with `vaultwire sandbox serve`; `VAULTWIRE_SANDBOX_DIR`
/// overrides it.
pub fn sandbox_dir(env: &Environment) -> PathBuf {
    env.get("VAULTWIRE_SANDBOX_DIR")
        .map_or_else(|| PathBuf::from(".vaultwire/sandbox"), PathBuf::from)
}

/// A signed-in backend, and the in-process sandbox behind it when one was started.
pub struct Connected {
    pub backend: Arc<AzureBackend>,
    pub environment: Environment,
    /// Kept alive for the command's lifetime; dropping it stops the server.
    _sandbox: Option<SandboxHandle>,
}

pub async fn connect(loaded: &LoadedPlan) -> Result<Connected, Error> {
    let mut environment = Environment::from_process();
    let mut sandbox = None;
    if loaded.plan.target.cloud.value == Cloud::Sandbox && !environment.is_set(SANDBOX_ENDPOINT_VAR)
    {
        let dir = sandbox_dir(&environment);
        let (endpoint, ca_file) = match Sandbox::served(&dir) {
            Some(served) => (served.endpoint, served.ca_file),
            None => {
                let handle = Sandbox::start(SandboxOptions {
                    dir: Some(dir.clone()),
                    ..SandboxOptions::default()
                })?;
                let found = (handle.endpoint().to_owned(), dir.join("ca.pem"));
                sandbox = Some(handle);
                found
            }
        };
        environment = sandbox_environment(environment, &endpoint, &ca_file);
    }
    let session = AzureSession::connect(&loaded.plan.target, &environment)
        .await
        .map_err(provider_error)?;
    Ok(Connected {
        backend: Arc::new(AzureBackend::new(session, environment.clone())),
        environment,
        _sandbox: sandbox,
    })
}

/// The variables `vaultwire sandbox serve` writes to its `env` file, for a sandbox found or
/// started here. Credentials already in the environment are kept.
fn sandbox_environment(
    environment: Environment,
    endpoint: &str,
    ca_file: &std::path::Path,
) -> Environment {
    let mut environment = environment
        .with(SANDBOX_ENDPOINT_VAR, endpoint)
        .with(SANDBOX_CA_VAR, ca_file.display().to_string());
    if !environment.is_set("AZURE_CLIENT_ID") {
        environment = environment
            .with("AZURE_CLIENT_ID", ids::CLIENT_ID)
            .with("AZURE_CLIENT_SECRET", ids::CLIENT_SECRET)
            .with("AZURE_TENANT_ID", ids::TENANT_ID);
    }
    environment
}
