//! `cargo bench`: the engine benchmarks of issue 5, item 10. The real `vaultwire` binary runs
//! as a child process against a sandbox in this process, as a user runs it against Azure:
//!
//! - S1: `plans/example.toml`, 20 ms latency per request, 1 s long-running operations;
//! - S2: 10 clusters × 50 SecretProviderClasses, 10 vaults and grants, same timing;
//! - S3: one cluster, 5,000 SecretProviderClasses in 100 namespaces, no latency: CPU and peak
//!   memory of `validate` and `plan`;
//! - S4: the CIS implementation procedure by hand with azure-cli and kubectl against
//!   `vaultwire apply` of the same end state, S1's timing (`by_hand.rs`; needs
//!   `VAULTWIRE_BENCH_AZ`).
//!
//! For S1 and S2: apply from scratch and a no-op plan afterwards, against the critical-path
//! bound (`bound.rs`). Prints a Markdown report and writes it to `docs/benchmarks.md` when
//! every scenario ran. Not a test: timings vary with the machine, so nothing here asserts.
//!
//! `cargo bench -- s1 s3 --reps 3` runs a subset with another repetition count;
//! `VAULTWIRE_BENCH_BIN=PATH` measures another vaultwire build against the same sandbox (the
//! report then goes to stdout only); `VAULTWIRE_BENCH_JOURNALS=DIR` keeps each run's request
//! journal and engine log.

mod bound;
mod by_hand;
mod plans;
mod report;
mod scene;
mod usage;

use std::path::Path;
use std::time::Duration;

use report::{LatencyRow, Report, ResourceRow};
use scene::{Run, Scene, Timing};
use usage::PeakMemory;

const SCENARIO_TIMING: Timing = Timing {
    latency: Duration::from_millis(20),
    lro: Duration::from_secs(1),
};

const NO_LATENCY: Timing = Timing {
    latency: Duration::ZERO,
    lro: Duration::ZERO,
};

struct Args {
    scenarios: Vec<String>,
    reps: Option<usize>,
}

impl Args {
    fn parse() -> Self {
        let mut scenarios = Vec::new();
        let mut reps = None;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // cargo passes `--bench` to every bench target.
                "--bench" => {}
                "--reps" => reps = args.next().and_then(|n| n.parse().ok()),
                other => scenarios.push(other.to_ascii_lowercase()),
            }
        }
        Self { scenarios, reps }
    }

    fn wants(&self, scenario: &str) -> bool {
        self.scenarios.is_empty() || self.scenarios.iter().any(|s| s == scenario)
    }

    fn all(&self) -> bool {
        ["s1", "s2", "s3"].iter().all(|s| self.wants(s))
    }
}

fn main() {
    let args = Args::parse();
    let peak = PeakMemory::detect();
    let mut report = Report::new(SCENARIO_TIMING, &peak);
    if args.wants("s1") {
        let example =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/plans/example.toml"))
                .expect("read plans/example.toml");
        report.latency.extend(latency_scenario(
            "S1 example plan",
            &example,
            1,
            Minimum::of(1, 1, 2),
            args.reps.unwrap_or(5),
        ));
    }
    if args.wants("s2") {
        let clusters = plans::cluster_names(10);
        let plan = plans::generate(&clusters, 50, &["payments".to_owned(), "shop".to_owned()]);
        report.latency.extend(latency_scenario(
            "S2 10 clusters × 50 SPCs",
            &plan,
            clusters.len(),
            Minimum::of(10, 10, 500),
            args.reps.unwrap_or(5),
        ));
    }
    if args.wants("s3") {
        report.resources = resource_scenario(&peak, args.reps.unwrap_or(3));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/benchmarks.md");
    match by_hand::azure_cli() {
        Some(az) if args.wants("s4") => {
            report.by_hand =
                by_hand::scenario(Path::new(&az), SCENARIO_TIMING, args.reps.unwrap_or(3));
        }
        _ => {
            if args.wants("s4") {
                eprintln!("S4 skipped: set VAULTWIRE_BENCH_AZ to an azure-cli `az`");
            }
            report.carried_by_hand = std::fs::read_to_string(path)
                .ok()
                .and_then(|text| report::by_hand_section(&text));
        }
    }
    let markdown = report.render();
    print!("{markdown}");
    let other_binary = std::env::var_os("VAULTWIRE_BENCH_BIN").is_some();
    if args.all() && !other_binary {
        std::fs::write(path, &markdown).expect("write docs/benchmarks.md");
        eprintln!("wrote {path}");
    } else {
        eprintln!("a subset ran, or another binary: docs/benchmarks.md left as it was");
    }
}

/// The fewest requests a step can make (one read per vault, cluster, role-assignment list,
/// credential and SecretProviderClass list; one write per resource; three requests per
/// add-on change; a Lease write to lock and to unlock each cluster).
#[derive(Debug, Clone, Copy)]
pub struct Minimum {
    pub no_op_plan: u64,
    pub apply: u64,
}

impl Minimum {
    /// For `vaults` RBAC vaults (each with a grant), `clusters` add-ons and `spcs`
    /// SecretProviderClasses, nothing live yet.
    fn of(vaults: u64, clusters: u64, spcs: u64) -> Self {
        let sign_in = 1;
        // vault GET, role-assignment list; cluster GET, credential, SPC list.
        let reads = 2 * vaults + 3 * clusters;
        // A missing vault is also looked up among the soft-deleted ones.
        let apply_reads = reads + vaults;
        let writes = vaults + 3 * clusters + vaults + spcs;
        let lock = 2 * clusters;
        Self {
            no_op_plan: sign_in + reads,
            apply: sign_in + apply_reads + lock + writes,
        }
    }
}

/// Apply from scratch, then a no-op plan, `reps` times, each on a fresh sandbox.
fn latency_scenario(
    name: &str,
    plan: &str,
    clusters: usize,
    minimum: Minimum,
    reps: usize,
) -> Vec<LatencyRow> {
    let mut applies = Vec::new();
    let mut plans = Vec::new();
    for rep in 0..reps {
        eprintln!("{name}: run {}/{reps}", rep + 1);
        let extra = plans::cluster_names(clusters).split_off(1);
        let scene = Scene::start(SCENARIO_TIMING, extra);
        let path = scene.write_plan("bench", plan);
        applies.push(scene.run(&["apply", &path, "--auto-approve"], None));
        plans.push(scene.run(&["plan", &path, "--detailed-exitcode"], None));
    }
    vec![
        LatencyRow {
            scenario: name.to_owned(),
            step: "apply from scratch",
            runs: applies,
            chain: bound::APPLY_FROM_SCRATCH,
            minimum_requests: minimum.apply,
            target: 1.3,
        },
        LatencyRow {
            scenario: name.to_owned(),
            step: "no-op plan",
            runs: plans,
            chain: bound::NO_OP_PLAN,
            minimum_requests: minimum.no_op_plan,
            target: 1.5,
        },
    ]
}

const S3_SPCS: usize = 5_000;
const S3_NAMESPACES: usize = 100;

/// S3: validate, plan from scratch, apply (for the no-op plan's world), no-op plan.
fn resource_scenario(peak: &PeakMemory, reps: usize) -> Vec<ResourceRow> {
    let scene = Scene::start(NO_LATENCY, Vec::new());
    let namespaces = plans::namespace_names(S3_NAMESPACES);
    create_namespaces(&scene, &namespaces);
    let cluster = plans::cluster_names(1);
    let path = scene.write_plan("bench", &plans::generate(&cluster, S3_SPCS, &namespaces));
    let repeat = |args: &[&str]| -> Vec<Run> {
        (0..reps)
            .map(|rep| {
                eprintln!("S3 `{}`: run {}/{reps}", args.join(" "), rep + 1);
                scene.run(args, Some(peak))
            })
            .collect()
    };
    let mut rows = vec![
        ResourceRow::target("validate", repeat(&["validate", &path])),
        ResourceRow::target(
            "plan, nothing applied yet (5,003 changes)",
            repeat(&["plan", &path]),
        ),
    ];
    eprintln!("S3: apply (once, to build the world the no-op plan reads)");
    let applied = scene.run_setup(&["apply", &path, "--auto-approve"], Some(peak));
    rows.push(ResourceRow::target(
        "no-op plan (5,003 in state and live)",
        repeat(&["plan", &path, "--detailed-exitcode"]),
    ));
    rows.push(ResourceRow::informative(
        "apply from scratch (not a target)",
        vec![applied],
    ));
    let state = std::fs::metadata(scene.state_path("bench")).map_or(0, |meta| meta.len());
    eprintln!("S3: state file {} KiB", state / 1024);
    rows
}

/// Creates `namespaces` in `aks-demo` through its Kubernetes API (setup, not measured).
fn create_namespaces(scene: &Scene, namespaces: &[String]) {
    use vaultwire::sandbox::ids;
    let token = scene
        .sandbox
        .issue_token(
            ids::CLIENT_OBJECT_ID,
            Some(ids::CLIENT_ID),
            ids::AKS_SERVER_APP_ID,
            Duration::from_secs(3600),
        )
        .expect("issue a Kubernetes token");
    let ca = reqwest::Certificate::from_pem(scene.sandbox.ca_pem().as_bytes()).expect("the CA");
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .expect("an HTTP client");
    let url = format!(
        "{}/k8s/clusters/aks-demo/api/v1/namespaces",
        scene.sandbox.endpoint()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        for namespace in namespaces {
            let body = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace},
            });
            let response = client
                .post(&url)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("create a namespace");
            assert!(
                response.status().is_success(),
                "creating namespace `{namespace}`: {}",
                response.status()
            );
        }
    });
}
