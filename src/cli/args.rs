//! What the user typed: clap's view of the command line.
//!
//! These types hold raw arguments only. `cli::config` turns them into validated settings, and
//! commands never see clap types. Every subcommand of DESIGN.md's contract is here, built or
//! not, so `--help` documents the whole tool.

use std::path::PathBuf;

use std::ffi::OsStr;

use clap::builder::TypedValueParser;
use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Provision external secret storage for AKS as code: Azure Key Vaults, the AKS Key Vault
/// secrets provider add-on, the grants that let it read a vault, and SecretProviderClasses.
#[derive(Debug, Parser)]
#[command(
    name = "vaultwire",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes, as `--help` ends with them (the README has the same table).
const EXIT_CODES: &str = "\
Exit codes:
  0    success; with --detailed-exitcode, no changes
  1    error, including a usage error such as an unknown flag
  2    changes present (plan --detailed-exitcode), or Secrets to migrate (migrate)
  3    stale: a saved change set or the state file changed since it was read
  4    audit found violations
  5    another run holds the lock of a target cluster
  130  interrupted; the state holds everything that completed";

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Turn colour and spinners off (also when NO_COLOR is set or output is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// More log output on stderr: -v info, -vv debug, -vvv trace. Secrets are never logged.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a plan file and report every problem in it, without touching Azure or a cluster.
    Validate(ValidateArgs),
    /// Show what apply would change: the diff between the plan file, the state and live Azure.
    Plan(PlanArgs),
    /// Make Azure and the cluster match the plan file, or execute a saved change set.
    Apply(ApplyArgs),
    /// Remove everything the state file records, in reverse dependency order (the backout).
    Destroy(DestroyArgs),
    /// Check CIS AKS 4.5.1 and 4.5.2 (external secret storage) on the plan's clusters.
    Audit(AuditArgs),
    /// Move workloads off native Kubernetes Secrets into Key Vault.
    Migrate(MigrateArgs),
    /// Adopt an existing Azure or Kubernetes resource into the state under an address.
    Import(ImportArgs),
    /// Print values applications need after apply (client IDs, vault URIs) from the state.
    Output(OutputArgs),
    /// Inspect or edit the state file.
    #[command(subcommand)]
    State(StateCommand),
    /// Run or reset vaultwire's built-in emulator of Azure and Kubernetes.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Scaffold a repository: a starter plan, the state directory and CI pipelines.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Save the change set to FILE; `vaultwire apply FILE` executes exactly it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Plan the destruction of everything in the state.
    #[arg(long, conflicts_with = "refresh_only")]
    pub destroy: bool,
    /// Only report drift and update the state to match live; change nothing.
    #[arg(long)]
    pub refresh_only: bool,
    /// Limit the plan to ADDR and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// How many changes run at once on each service (Key Vault, AKS, role assignments, each
    /// cluster); the refresh reads up to four times as many at once.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = whole_number::<u16>(1, 256))]
    pub parallelism: u16,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan file (TOML) or a change set saved by `plan --out`.
    pub plan: PathBuf,
    /// Skip the interactive confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// When an add-on comes out of the apply with a new identity, update the grants and
    /// SecretProviderClasses planned for the old one, instead of failing them.
    #[arg(long)]
    pub update_dependents: bool,
    /// How many changes run at once on each service (Key Vault, AKS, role assignments, each
    /// cluster); the refresh reads up to four times as many at once.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = whole_number::<u16>(1, 256))]
    pub parallelism: u16,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Skip the interactive confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// When restoring Secrets before the destroy, replace a native Secret of the same name
    /// that vaultwire did not write.
    #[arg(long)]
    pub force: bool,
    /// How many changes run at once on each service (Key Vault, AKS, role assignments, each
    /// cluster).
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = whole_number::<u16>(1, 256))]
    pub parallelism: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Sarif,
    Junit,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The plan file (TOML).
    pub plan: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateAs {
    /// The CSI driver recreates each Secret from Key Vault; env vars keep working.
    Sync,
    /// Files only (CIS 4.5.1 too): Secret volumes become CSI volumes; env vars are listed.
    Files,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The plan file (TOML) whose clusters and vaults to use.
    pub plan: PathBuf,
    /// Migrate the Secrets that workloads of NS read (repeatable; at least one).
    #[arg(long = "namespace", value_name = "NS", required = true)]
    pub namespaces: Vec<String>,
    /// Only the Secret NAME.
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// Move values into `[vault.KEY]` (default: the vault the namespace's classes read, or the
    /// plan's only vault).
    #[arg(long, value_name = "KEY")]
    pub vault: Option<String>,
    /// How workloads read the moved secrets.
    #[arg(long = "as", value_enum, default_value_t = MigrateAs::Sync)]
    pub mode: MigrateAs,
    /// Output format of the change set.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Append the new entries to the plan file and write the workload patches.
    #[arg(long)]
    pub write: bool,
    /// Where --write puts the workload patches (CLUSTER/NAMESPACE/KIND-NAME.yaml).
    #[arg(long, value_name = "DIR", default_value = "patches")]
    pub patch_dir: PathBuf,
    /// Copy each value from its Secret into Key Vault (in memory only; needs Key Vault Secrets
    /// Officer).
    #[arg(long)]
    pub copy_values: bool,
    /// With --copy-values: replace a Key Vault value that differs from the Secret's.
    #[arg(long, requires = "copy_values")]
    pub overwrite: bool,
    /// Delete each original Secret no workload reads natively any more whose values are in
    /// Key Vault, recording it in the state (destroy restores it).
    #[arg(long, conflicts_with_all = ["write", "copy_values"])]
    pub finish: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The plan file (TOML) that defines ADDR.
    pub plan: PathBuf,
    /// The address to adopt the resource as, such as `vault.payments`.
    pub address: String,
    /// The resource's ID: an ARM resource ID, or `NAMESPACE/NAME` for a SecretProviderClass.
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The plan file (TOML) whose state to read.
    pub plan: PathBuf,
    /// One output, such as `identity.payments.client_id`: printed as its bare value.
    pub name: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in the state.
    List(StateListArgs),
    /// Show what the state records for one address.
    Show(StateAddressArgs),
    /// Forget an address without touching the resource (it is no longer managed).
    Rm(StateRmArgs),
}

#[derive(Debug, Args)]
pub struct StateRmArgs {
    #[command(flatten)]
    pub state: StateAddressArgs,
    /// Hold the clusters' run lock while the state is written, as apply does. `--lock=false`
    /// edits the file offline: only with no other run going, for a cluster that cannot be
    /// reached.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub lock: bool,
}

#[derive(Debug, Args)]
pub struct StateListArgs {
    /// The plan file (TOML) whose state to read.
    pub plan: PathBuf,
}

#[derive(Debug, Args)]
pub struct StateAddressArgs {
    /// The plan file (TOML) whose state to read.
    pub plan: PathBuf,
    /// The address, such as `spc.payments-db`.
    pub address: String,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the sandbox over HTTPS on 127.0.0.1 until interrupted.
    Serve(SandboxServeArgs),
    /// Restore the sandbox world to its seed.
    Reset(SandboxDirArgs),
}

#[derive(Debug, Args)]
pub struct SandboxDirArgs {
    /// Where the sandbox keeps its certificates, world and generated files.
    #[arg(long, default_value = ".vaultwire/sandbox")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct SandboxServeArgs {
    #[command(flatten)]
    pub dir: SandboxDirArgs,
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole_number::<u16>(0, u16::MAX.into()))]
    pub port: u16,
    /// Seed another AKS cluster beside `aks-demo`, a copy of it under NAME (repeatable).
    #[arg(long = "extra-cluster", value_name = "NAME")]
    pub extra_clusters: Vec<String>,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Injected faults and latency, reproducible from `--seed`.
#[derive(Debug, Clone, Args)]
pub struct FaultArgs {
    /// Seed for every random choice the sandbox makes.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = whole_number::<u64>(0, u64::MAX))]
    pub seed: u64,
    /// Latency added to every request, in milliseconds (at most 600000).
    #[arg(long, default_value_t = 0, value_name = "MS", allow_negative_numbers = true, value_parser = whole_number::<u64>(0, MAX_MILLIS))]
    pub latency_ms: u64,
    /// Fraction of requests answered 429 with Retry-After (0.0–1.0).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true, value_parser = Fraction)]
    pub throttle_rate: f64,
    /// Fraction of requests answered with a 5xx error (0.0–1.0).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true, value_parser = Fraction)]
    pub error_rate: f64,
    /// Fraction of requests dropped before a response: the connection closed (HTTP/1.1) or the
    /// stream reset (HTTP/2) (0.0–1.0).
    #[arg(long, default_value_t = 0.0, value_name = "RATE", allow_negative_numbers = true, value_parser = Fraction)]
    pub drop_rate: f64,
    /// How long long-running ARM operations take, in milliseconds (at most 600000).
    #[arg(long, default_value_t = 2000, value_name = "MS", allow_negative_numbers = true, value_parser = whole_number::<u64>(0, MAX_MILLIS))]
    pub lro_ms: u64,
    /// How long a new role assignment or access policy takes to take effect, in milliseconds
    /// (at most 600000).
    #[arg(long, default_value_t = 0, value_name = "MS", allow_negative_numbers = true, value_parser = whole_number::<u64>(0, MAX_MILLIS))]
    pub rbac_delay_ms: u64,
    /// How long a user-assigned identity created through ARM stays unknown to role
    /// assignments (PrincipalNotFound), in milliseconds (at most 600000).
    #[arg(long, default_value_t = 0, value_name = "MS", allow_negative_numbers = true, value_parser = whole_number::<u64>(0, MAX_MILLIS))]
    pub principal_delay_ms: u64,
    /// How long Entra ignores a new federated identity credential (token exchanges that need
    /// it fail with AADSTS70021), in milliseconds (at most 600000).
    #[arg(long, default_value_t = 0, value_name = "MS", allow_negative_numbers = true, value_parser = whole_number::<u64>(0, MAX_MILLIS))]
    pub credential_delay_ms: u64,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The repository to scaffold (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Name of the starter plan (`plans/NAME.toml`); defaults to the directory's name.
    #[arg(long)]
    pub name: Option<String>,
}

/// The longest duration a sandbox flag takes, in milliseconds (ten minutes): longer waits test
/// nothing more, and far longer ones would overflow the clock they are added to.
pub const MAX_MILLIS: u64 = 600_000;

/// A value parser for a whole number from `min` to `max`. Its error names the flag, the value
/// and the range — negative numbers included, which clap's own parser took for flags.
fn whole_number<T>(min: u64, max: u64) -> WholeNumber<T> {
    WholeNumber {
        min,
        max,
        into: std::marker::PhantomData,
    }
}

#[derive(Debug)]
struct WholeNumber<T> {
    min: u64,
    max: u64,
    into: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for WholeNumber<T> {
    fn clone(&self) -> Self {
        whole_number(self.min, self.max)
    }
}

impl<T: TryFrom<u64> + Clone + Send + Sync + 'static> TypedValueParser for WholeNumber<T> {
    type Value = T;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        text.trim()
            .parse::<u64>()
            .ok()
            .filter(|number| (self.min..=self.max).contains(number))
            .and_then(|number| T::try_from(number).ok())
            .ok_or_else(|| {
                let range = format!("a whole number from {} to {}", self.min, self.max);
                out_of_range(command, arg, &text, &range)
            })
    }
}

/// A value parser for a fraction from 0 to 1 (`0.2` is one request in five).
#[derive(Debug, Clone, Copy)]
struct Fraction;

impl TypedValueParser for Fraction {
    type Value = f64;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<f64, clap::Error> {
        let text = value.to_string_lossy();
        text.trim()
            .parse::<f64>()
            .ok()
            .filter(|rate| (0.0..=1.0).contains(rate))
            .ok_or_else(|| out_of_range(command, arg, &text, "between 0 and 1"))
    }
}

/// "`--error-rate` must be between 0 and 1, not -0.5", as clap prints its errors.
fn out_of_range(
    command: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &str,
    range: &str,
) -> clap::Error {
    let flag = arg
        .and_then(clap::Arg::get_long)
        .map_or_else(|| "the value".to_owned(), |long| format!("`--{long}`"));
    clap::Error::raw(
        clap::error::ErrorKind::ValueValidation,
        format!("{flag} must be {range}, not {value}\n"),
    )
    .with_cmd(command)
}
