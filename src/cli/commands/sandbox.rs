//! `vaultwire sandbox serve` and `vaultwire sandbox reset`.
//!
//! `serve` runs the sandbox on a directory until SIGINT or SIGTERM, holding
//! `DIR/server.lock` and writing `env`, `kubeconfig`, `ca.pem` and `server.json` there.
//! `reset` restores the seed world, also while a `serve` runs (it picks the change up on its
//! next request).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::args::{FaultArgs, SandboxServeArgs};
use crate::cli::error::{Error, Outcome};
use crate::sandbox::files::{self, ServerInfo};
use crate::sandbox::persist::{Store, check_directory};
use crate::sandbox::{Faults, Sandbox, SandboxError, SandboxOptions};

/// How long the kubeconfig token `serve` writes stays valid.
const KUBECONFIG_TOKEN_LIFETIME: Duration = Duration::from_secs(365 * 86_400);

/// Validated settings of `sandbox serve`.
#[derive(Debug, Clone)]
pub struct ServeCommand {
    pub dir: PathBuf,
    pub sandbox: SandboxOptions,
}

impl ServeCommand {
    pub fn from_args(args: SandboxServeArgs) -> Self {
        let FaultArgs {
            seed,
            latency_ms,
            throttle_rate,
            error_rate,
            drop_rate,
            lro_ms,
            rbac_delay_ms,
            principal_delay_ms,
            credential_delay_ms,
        } = args.faults;
        Self {
            dir: args.dir.dir.clone(),
            sandbox: SandboxOptions {
                dir: Some(args.dir.dir),
                port: args.port,
                faults: Faults {
                    latency: Duration::from_millis(latency_ms),
                    throttle_rate,
                    error_rate,
                    drop_rate,
                },
                lro_duration: Duration::from_millis(lro_ms),
                rbac_propagation_delay: Duration::from_millis(rbac_delay_ms),
                principal_replication_delay: Duration::from_millis(principal_delay_ms),
                credential_propagation_delay: Duration::from_millis(credential_delay_ms),
                seed,
                extra_clusters: args.extra_clusters,
            },
        }
    }
}

/// Serves until interrupted.
pub fn serve(options: &ServeCommand) -> Result<Outcome, Error> {
    let dir = &options.dir;
    // Before the first file is made there.
    check_directory(dir).map_err(SandboxError::from)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let lock_path = dir.join(files::SERVER_LOCK_FILE);
    let server_lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| Error::Write {
            path: lock_path.clone(),
            source,
        })?;
    if server_lock.try_lock().is_err() {
        let endpoint =
            Sandbox::served(dir).map_or_else(|| "an unknown address".to_owned(), |s| s.endpoint);
        return Err(SandboxError::AlreadyServed {
            dir: dir.clone(),
            endpoint,
        }
        .into());
    }
    // Signal handlers go in before anything announces the server, so a SIGTERM sent as soon
    // as `server.json` appears stops it cleanly.
    let signals = Signals::install()?;
    let handle = Sandbox::start(options.sandbox.clone())?;
    let absolute = files::absolute(dir);
    write_serve_files(&handle, &absolute)?;
    print!("{}", files::env_text(handle.endpoint(), &absolute));
    let _ = std::io::Write::flush(&mut std::io::stdout());
    eprintln!(
        "vaultwire sandbox listening on {} (world in `{}`); stop with Ctrl-C",
        handle.endpoint(),
        absolute.display()
    );
    write_server_info(&handle, &absolute)?;
    signals.wait()?;
    let _ = std::fs::remove_file(absolute.join(files::SERVER_FILE));
    handle.shutdown();
    let _ = server_lock.unlock();
    eprintln!("vaultwire sandbox stopped");
    Ok(Outcome::Success)
}

fn write_serve_files(
    handle: &crate::sandbox::SandboxHandle,
    dir: &Path,
) -> Result<(), SandboxError> {
    files::write_atomic(&dir.join(files::CA_FILE), handle.ca_pem().as_bytes(), 0o644)?;
    let kubeconfig = handle.kubeconfig(KUBECONFIG_TOKEN_LIFETIME)?;
    files::write_atomic(
        &dir.join(files::KUBECONFIG_FILE),
        kubeconfig.as_bytes(),
        0o600,
    )?;
    files::write_atomic(
        &dir.join(files::ENV_FILE),
        files::env_text(handle.endpoint(), dir).as_bytes(),
        0o600,
    )
}

/// `server.json`, written last: its presence means the server is up and stoppable.
fn write_server_info(
    handle: &crate::sandbox::SandboxHandle,
    dir: &Path,
) -> Result<(), SandboxError> {
    let info = ServerInfo {
        format_version: 1,
        endpoint: handle.endpoint().to_owned(),
        pid: std::process::id(),
        ca_file: dir.join(files::CA_FILE),
    };
    let json = serde_json::to_vec_pretty(&info).unwrap_or_default();
    files::write_atomic(&dir.join(files::SERVER_FILE), &json, 0o644)
}

/// SIGINT and SIGTERM, listened for on a small runtime of their own.
struct Signals {
    runtime: tokio::runtime::Runtime,
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Self, SandboxError> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SandboxError::Runtime)?;
        let (interrupt, terminate) = {
            let _guard = runtime.enter();
            (
                signal(SignalKind::interrupt()).map_err(SandboxError::Runtime)?,
                signal(SignalKind::terminate()).map_err(SandboxError::Runtime)?,
            )
        };
        Ok(Self {
            runtime,
            interrupt,
            terminate,
        })
    }

    /// Blocks until either signal arrives.
    fn wait(self) -> Result<(), SandboxError> {
        let Self {
            runtime,
            mut interrupt,
            mut terminate,
        } = self;
        runtime.block_on(async {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        });
        Ok(())
    }
}

/// Restores the seed world of `DIR` (the seed it was created with).
pub fn reset(dir: &Path) -> Result<Outcome, Error> {
    // A world that no longer parses is replaced too: reset is the way out of that.
    Store::reset_dir(dir, 1).map_err(SandboxError::from)?;
    println!("restored the seed world in `{}`", dir.display());
    Ok(Outcome::Success)
}
