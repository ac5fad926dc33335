//! The reliability suite (issue 19, item 7): bounded campaigns of the real binary against its
//! own `vaultwire sandbox serve` — a fault soak, a SIGKILL campaign and simultaneous applies
//! here, the canary sweep in `reliability_canary.rs`. Each prints a report row (trials,
//! converged, orphans, duplicate grants, corrupt states, panics, leaks) and fails on any bad
//! count. The defaults are the short version `.ci/run` runs; `tests/reliability/run.sh` runs
//! the long one and writes docs/reliability.md, which lists the `VAULTWIRE_RELIABILITY_*`
//! settings.

use crate::reliability_report::{Rng, knob, seed};
use crate::reliability_support::{Campaign, PLAN, Run};

const APPLY: &[&str] = &["apply", PLAN, "--auto-approve"];
const DESTROY: &[&str] = &["destroy", PLAN, "--auto-approve"];

/// Apply, re-plan and destroy under injected throttling, 5xx errors and dropped connections,
/// each command run again after a clean failure, as a pipeline would.
#[test]
fn fault_soak() {
    let trials: u64 = knob("TRIALS", 3);
    let rate: f64 = knob("FAULT_RATE", 0.1);
    let attempts: u32 = knob("ATTEMPTS", 5);
    let percent = (rate * 100.0).round();
    let mut campaign = Campaign::start(
        &format!("fault-soak-{percent}"),
        &format!("fault soak, {percent}% faulted"),
        seed(),
        &["--lro-ms", "100"],
    );
    campaign.row.settings = format!(
        "{trials} trials; {percent}% of ARM, Key Vault and Kubernetes requests faulted, a third \
         each 429, 5xx and dropped; up to {attempts} runs of each command"
    );
    for trial in 1..=trials {
        campaign.set_fault_rate(rate);
        let applied = campaign.pipeline(APPLY, attempts);
        let converged = succeeded(&mut campaign, trial, &applied) && campaign.converged(attempts);
        if converged {
            campaign.check_world(&format!("after trial {trial}'s apply"));
        }
        let destroyed = campaign.pipeline(DESTROY, attempts);
        campaign.set_fault_rate(0.0);
        let destroyed = succeeded(&mut campaign, trial, &destroyed) && campaign.state_is_empty();
        if destroyed {
            campaign.check_world(&format!("after trial {trial}'s destroy"));
        }
        campaign.end_trial(trial, converged && destroyed);
    }
    campaign.into_row().report();
}

/// SIGKILL an apply or a destroy once the sandbox has answered a random number of its
/// requests (from none to all of them), then a fault-free apply or destroy must converge.
#[test]
fn sigkill_campaign() {
    let kills: u64 = knob("KILLS", 6);
    let seed = seed();
    let mut rng = Rng::new(seed);
    let mut campaign = Campaign::start("sigkill", "SIGKILL campaign", seed, &["--lro-ms", "300"]);
    // How many requests a whole apply and destroy make, so that kill points spread over them.
    let mut requests = [0; 2];
    for (count, command) in requests.iter_mut().zip([APPLY, DESTROY]) {
        campaign.admin("DELETE", "journal", None);
        let run = campaign.run(command);
        succeeded(&mut campaign, 0, &run);
        *count = campaign.requests_answered();
    }
    let mut landed = 0;
    for trial in 1..=kills {
        let (command, total) = if trial % 2 == 1 {
            (APPLY, requests[0])
        } else {
            (DESTROY, requests[1])
        };
        let point = rng.below(total + 1);
        if campaign.kill_after(command, point).killed {
            landed += 1;
        }
        let converging = campaign.run(command);
        let converged = succeeded(&mut campaign, trial, &converging)
            && if command == APPLY {
                campaign.converged(1)
            } else {
                campaign.state_is_empty()
            };
        if converged {
            campaign.check_world(&format!(
                "after trial {trial} (`{}` killed after request {point})",
                command[0]
            ));
        } else {
            campaign.problem(format!(
                "trial {trial}: `{}` killed after request {point} of {total} did not converge",
                command[0]
            ));
        }
        campaign.end_trial(trial, converged);
    }
    campaign.row.settings = format!(
        "{kills} kills, alternately of apply ({} requests) and destroy ({} requests); {landed} \
         landed before the run ended",
        requests[0], requests[1]
    );
    campaign.into_row().report();
}

/// Applies started at once on the same repository: exactly one changes anything; the others
/// stop at the lock (exit 5) or find the state changed under them (exit 3). A run that only
/// started after the winner had finished has nothing to do and exits 0 saying so.
#[test]
fn simultaneous_applies() {
    let trials: u64 = knob("TRIALS", 3);
    let at_once: usize = knob("AT_ONCE", 5);
    let mut campaign = Campaign::start(
        "simultaneous",
        &format!("{at_once} simultaneous applies"),
        seed(),
        // Operations that take a while, so the applies overlap.
        &["--lro-ms", "1500"],
    );
    // How the others ended, over all trials: [found nothing to do, locked out, state changed].
    let mut others = [0; 3];
    for trial in 1..=trials {
        // Each trial starts from a destroyed world, so the applies have work to race for.
        if trial > 1 {
            let destroyed = campaign.run(DESTROY);
            if !succeeded(&mut campaign, trial, &destroyed) {
                campaign.end_trial(trial, false);
                continue;
            }
        }
        let started: Vec<_> = (0..at_once).map(|_| campaign.start_run(APPLY)).collect();
        let runs: Vec<Run> = started.into_iter().map(|run| campaign.wait(run)).collect();
        let winners = runs
            .iter()
            .filter(|run| run.exited(0) && run.stdout.contains("Apply complete!"))
            .count();
        let nothing_to_do = runs
            .iter()
            .filter(|run| run.exited(0) && run.stdout.contains("No changes."))
            .count();
        let locked = runs.iter().filter(|run| run.exited(5)).count();
        let stale = runs.iter().filter(|run| run.exited(3)).count();
        let refused = locked + stale;
        for (total, count) in others.iter_mut().zip([nothing_to_do, locked, stale]) {
            *total += count;
        }
        let raced = winners == 1 && winners + nothing_to_do + refused == at_once;
        if !raced {
            let codes: Vec<Option<i32>> = runs.iter().map(|run| run.code).collect();
            campaign.problem(format!(
                "trial {trial}: {winners} applies changed something (exits {codes:?})"
            ));
            for run in runs.iter().filter(|run| !(run.exited(5) || run.exited(3))) {
                let line = format!("trial {trial}: {}", campaign.describe(run));
                campaign.problem(line);
            }
        }
        let converged = raced && campaign.converged(1);
        if converged {
            campaign.check_world(&format!("after trial {trial}"));
        }
        campaign.end_trial(trial, converged);
    }
    let [late, locked, stale] = others;
    campaign.row.settings = format!(
        "{trials} trials of {at_once} applies started at once; of the others, {locked} stopped \
         at the lock (exit 5), {stale} found the state changed (exit 3) and {late} started after \
         the winner had finished"
    );
    campaign.into_row().report();
}

/// Whether `run` exited 0; a problem line for trial `trial` (0: before the trials) otherwise.
fn succeeded(campaign: &mut Campaign, trial: u64, run: &Run) -> bool {
    if !run.exited(0) {
        let line = format!("trial {trial}: {}", campaign.describe(run));
        campaign.problem(line);
    }
    run.exited(0)
}
