//! Connecting a command to its target: sign in to Azure (or the sandbox) and build the backend
//! the engine talks through.
//!
//! A plan with `cloud = "sandbox"` needs no setup: with `VAULTWIRE_SANDBOX_ENDPOINT` set (the
//! user sourced a served sandbox's `env` file) that server is used; else a `vaultwire sandbox
//! serve` running on `.vaultwire/sandbox` is found and used; else a sandbox is started in this
//! process on an ephemeral port, sharing that directory's persisted world.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::commands::common::{
    LoadedPlan, StateRead, loaded_plan, release_at_exit, state_path_of,
};
use crate::cli::error::{Error, Outcome};
use crate::cli::output::Output;
use crate::plan::model::{Cloud, Target};
use crate::plan::{PlanSource, check_seeing_target, read, target_ahead};
use crate::providers::Environment;
#[cfg(feature = "sandbox")]
use crate::providers::azure::cloud::{SANDBOX_CA_VAR, SANDBOX_ENDPOINT_VAR};
use crate::providers::azure_backend::{AzureBackend, provider_error};
use crate::providers::session::AzureSession;
#[cfg(feature = "sandbox")]
use crate::sandbox::{Sandbox, SandboxHandle, SandboxOptions, ids};
use crate::task::joined;

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
    _sandbox: Option<SandboxKeepAlive>,
}

#[cfg(feature = "sandbox")]
type SandboxKeepAlive = SandboxHandle;
/// Without the emulator no sandbox is ever started.
#[cfg(not(feature = "sandbox"))]
type SandboxKeepAlive = std::convert::Infallible;

/// Signs in to `target`, first starting a sandbox in this process when the plan needs one and
/// none is running.
pub async fn connect(target: &Target) -> Result<Connected, Error> {
    connect_by(target, route(target, Environment::from_process())).await
}

async fn connect_by(target: &Target, route: Route) -> Result<Connected, Error> {
    match route {
        Route::Ready(environment) => signed_in(target, environment, None).await,
        Route::StartSandbox { environment, dir } => {
            let (environment, handle) = start_sandbox(environment, &dir)?;
            signed_in(target, environment, Some(handle)).await
        }
    }
}

#[cfg(feature = "sandbox")]
fn start_sandbox(
    environment: Environment,
    dir: &Path,
) -> Result<(Environment, SandboxHandle), Error> {
    let handle = Sandbox::start(SandboxOptions {
        dir: Some(dir.to_owned()),
        ..SandboxOptions::default()
    })?;
    let environment = sandbox_environment(environment, handle.endpoint(), &dir.join("ca.pem"));
    Ok((environment, handle))
}

#[cfg(not(feature = "sandbox"))]
fn start_sandbox(
    _environment: Environment,
    _dir: &Path,
) -> Result<(Environment, SandboxKeepAlive), Error> {
    Err(Error::SandboxNotBuilt)
}

/// The one preamble of every command that talks to a target. On a runtime of its own: the
/// plan file at `path` (already read as `source` when given) is checked while its state is
/// read and its target signed in to; then `command` runs. What the command leaves — the
/// runtime, its connections, the plan — is released with the process: closing a hundred TLS
/// connections and joining threads only delays the exit.
pub fn with_target<F>(
    path: &Path,
    source: Option<PlanSource>,
    output: Output,
    command: F,
) -> Result<Outcome, Error>
where
    F: AsyncFnOnce(&LoadedPlan, StateRead, &Connected) -> Result<Outcome, Error>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Runtime { source })?;
    let outcome = runtime.block_on(async {
        let source = match source {
            Some(source) => source,
            None => read(path)?,
        };
        let Prepared {
            loaded,
            state,
            connected,
        } = check_and_connect(path, source, output).await?;
        tracing::debug!("connected");
        let outcome = command(&loaded, state, &connected).await;
        release_at_exit((loaded, connected));
        outcome
    });
    release_at_exit(runtime);
    outcome
}

/// A checked plan, its state (being read) and the signed-in backend.
pub struct Prepared {
    pub loaded: LoadedPlan,
    pub state: StateRead,
    pub connected: Connected,
}

/// How long the plan check and the state read wait for a sign-in started ahead of them. The
/// sign-in's first milliseconds are CPU work — building its HTTP client, its TLS handshake (on
/// both ends when the sandbox shares the machine) — and the check and the state read, started
/// at the same instant on a two-core machine, held it back: with this head start S2's no-op
/// plan has its token 3 ms sooner and ends 3–4 ms sooner (48 runs each). Waiting costs nothing
/// while the check still ends before the token is back: the check of S2's 530 resources takes
/// 15–20 ms, and a sign-in takes at least a round trip after its handshake.
const SIGN_IN_HEAD_START: Duration = Duration::from_millis(4);

/// Checks the plan file at `path`, read as `source`, and at the same time reads its state and
/// signs in to its target: both start as soon as `[target]` has decoded, while the resources are still being
/// decoded and checked — for hundreds of resources that check takes as long as the sign-in's
/// round trip. When `[target]` can be read ahead of the check, the sign-in goes first, with
/// [`SIGN_IN_HEAD_START`] to itself. Neither changes anything, so when the plan turns out
/// invalid the sign-in is abandoned and only the plan's problems are reported, as without it.
/// A sandbox that would have to be started in this process (which creates its directory) waits
/// for a valid plan.
async fn check_and_connect(
    path: &Path,
    source: PlanSource,
    output: Output,
) -> Result<Prepared, Error> {
    let mut state = None;
    let mut signing_in = None;
    // Where a sandbox must first be started: that waits for the check.
    let mut start_after_check = None;
    let mut sign_in = |target: &Target| match route(target, Environment::from_process()) {
        Route::Ready(environment) => {
            let target = target.clone();
            signing_in = Some(tokio::spawn(async move {
                signed_in(&target, environment, None).await
            }));
            true
        }
        start => {
            start_after_check = Some(start);
            false
        }
    };
    // Before the whole file is even parsed when `[target]` can be read on its own; else as
    // soon as the check has decoded it. A target read ahead that the check then reads
    // differently is abandoned for the check's.
    let ahead = target_ahead(&source);
    if let Some(target) = &ahead {
        if sign_in(target) {
            tokio::time::sleep(SIGN_IN_HEAD_START).await;
        }
        state = Some(StateRead::start(state_path_of(path, target)));
    }
    let checked = check_seeing_target(&source, |target| {
        if ahead.is_none() {
            sign_in(target);
            state = Some(StateRead::start(state_path_of(path, target)));
        }
    });
    tracing::debug!(signing_in = signing_in.is_some(), "plan checked");
    let loaded = loaded_plan(path, source, checked, output);
    let read_ahead_wrongly = match (&loaded, &ahead) {
        (Ok(loaded), Some(ahead)) => loaded.plan.target != *ahead,
        _ => false,
    };
    if loaded.is_err() || read_ahead_wrongly {
        // Abandoned, and waited for: exiting while a worker is still inside a TLS
        // handshake or a blocking thread still parses the state aborted the process now
        // and then (SIGABRT from the C libraries' exit handlers).
        if let Some(task) = signing_in.take() {
            task.abort();
            let _ = task.await;
        }
        if let Some(state) = state.take() {
            let _ = state.get().await;
        }
        start_after_check = None;
    }
    let loaded = loaded?;
    let state = state.unwrap_or_else(|| loaded.read_state_meanwhile());
    let target = &loaded.plan.target;
    let connected = match (signing_in, start_after_check) {
        (Some(task), _) => joined(task)
            .await
            .map_err(|cancelled| Error::Runtime {
                source: std::io::Error::other(cancelled),
            })
            .and_then(|signed_in| signed_in),
        (None, Some(route)) => connect_by(target, route).await,
        // `[target]` was not seen early (a warning before it), or was read ahead wrongly:
        // routed only now.
        (None, None) => connect(target).await,
    };
    let connected = match connected {
        Ok(connected) => connected,
        Err(failed) => {
            // As for an invalid plan: no thread may still be reading the state at exit.
            let _ = state.get().await;
            return Err(failed);
        }
    };
    Ok(Prepared {
        loaded,
        state,
        connected,
    })
}

/// How to reach a plan's target.
enum Route {
    /// Through `environment` as it is (Azure, or a sandbox already running).
    Ready(Environment),
    /// A sandbox must be started in this process, on `dir`.
    StartSandbox {
        environment: Environment,
        dir: PathBuf,
    },
}

/// A `cloud = "sandbox"` plan uses the sandbox `VAULTWIRE_SANDBOX_ENDPOINT` names, else one
/// `vaultwire sandbox serve` runs on the sandbox directory, else one started here.
#[cfg(feature = "sandbox")]
fn route(target: &Target, environment: Environment) -> Route {
    if target.cloud.value != Cloud::Sandbox || environment.is_set(SANDBOX_ENDPOINT_VAR) {
        return Route::Ready(environment);
    }
    let dir = sandbox_dir(&environment);
    match Sandbox::served(&dir) {
        Some(served) => Route::Ready(sandbox_environment(
            environment,
            &served.endpoint,
            &served.ca_file,
        )),
        None => Route::StartSandbox { environment, dir },
    }
}

/// Without the emulator a `cloud = "sandbox"` plan goes the way that fails, saying why.
#[cfg(not(feature = "sandbox"))]
fn route(target: &Target, environment: Environment) -> Route {
    if target.cloud.value != Cloud::Sandbox {
        return Route::Ready(environment);
    }
    let dir = sandbox_dir(&environment);
    Route::StartSandbox { environment, dir }
}

async fn signed_in(
    target: &Target,
    environment: Environment,
    sandbox: Option<SandboxKeepAlive>,
) -> Result<Connected, Error> {
    let session = AzureSession::connect(target, &environment)
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
#[cfg(feature = "sandbox")]
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
