#!/usr/bin/env bash
# The long reliability run (issue 19, item 7), from the repository root:
#   tests/reliability/run.sh
# runs every scenario of tests/cli/reliability*.rs with many trials against `vaultwire sandbox
# serve` and writes docs/reliability.md from their report rows. The defaults are the long
# version; override them for a shorter run, e.g.
#   TRIALS=5 KILLS=10 FAULT_RATES="0.2" tests/reliability/run.sh
# Exits non-zero when a scenario has a bad count (docs/reliability.md is written anyway).
set -euo pipefail
cd "$(dirname "$0")/../.."

trials="${TRIALS:-20}"      # trials of the fault soak and of simultaneous applies
kills="${KILLS:-60}"        # SIGKILLs
at_once="${AT_ONCE:-5}"     # applies started at once per trial
rates="${FAULT_RATES:-0.2 0.4}"
seed="${SEED:-19007}"

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest is required: cargo install cargo-nextest --locked" >&2
  exit 1
fi

report="$(mktemp -d)"
trap 'rm -rf "$report"' EXIT
export VAULTWIRE_RELIABILITY_REPORT="$report"
export VAULTWIRE_RELIABILITY_SEED="$seed"
export VAULTWIRE_RELIABILITY_TRIALS="$trials"
export VAULTWIRE_RELIABILITY_KILLS="$kills"
export VAULTWIRE_RELIABILITY_AT_ONCE="$at_once"

status=0
scenario() {
  cargo nextest run --profile reliability --no-capture -E "$1" || status=1
}
scenarios=()
for rate in $rates; do
  VAULTWIRE_RELIABILITY_FAULT_RATE="$rate" scenario 'test(=reliability::fault_soak)'
  scenarios+=("fault-soak-$(awk -v r="$rate" 'BEGIN { printf "%d", r * 100 + 0.5 }')")
done
scenario 'test(=reliability::sigkill_campaign)'
scenario 'test(=reliability::simultaneous_applies)'
scenario 'test(=reliability_canary::canary_sweep)'
scenarios+=(sigkill simultaneous canary-sweep)

commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src tests || echo ' (with uncommitted changes)')"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
{
  cat <<'DOC'
# Reliability

Figures of the reliability suite (issue 19, item 7): bounded campaigns of the real `vaultwire`
binary against its own `vaultwire sandbox serve` (real HTTPS, its own directory and port), on a
copy of `plans/example.toml`. Every scenario counts, over all its trials:

- **converged**: trials that ended where they should — `plan --detailed-exitcode` exits 0 after
  the converging apply, and the state is empty and the world clean after a destroy;
- **orphans**: live resources vaultwire manages (vaults, role assignments,
  SecretProviderClasses, an enabled Key Vault add-on, a run lock still held) that the state does
  not record after a converging run — after a destroy, anything left;
- **dup grants**: role assignments beyond the first with the same scope, principal and role;
- **corrupt**: a state file or `.backup` that does not parse as a state (JSON with
  `format_version`, `lineage`, `serial`), a serial that went backwards, a changed lineage, or a
  backup ahead of the state;
- **panics**: `panicked at` or `RUST_BACKTRACE` in any stderr, or a run (or the sandbox) ended by
  a signal other than the campaign's own SIGKILL;
- **leaks**: occurrences of the canary, raw or base64-encoded, in any output.

A scenario fails on converged < trials or any other count above 0.

## Figures

DOC
  echo "Machine: $(nproc) cores${cpu:+ ($cpu)}, $(uname -sr). Date: $(date -u +%Y-%m-%d). Commit: $commit. Seed: $seed."
  echo
  echo "| scenario | trials | converged | orphans | dup grants | corrupt | panics | leaks | wall time | runs | seed | result |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for name in "${scenarios[@]}"; do
    if [[ -f "$report/$name.md" ]]; then
      cat "$report/$name.md"
    else
      echo "| $name | no row: the test did not finish (see the run's output) | | | | | | | | | | **FAIL** |"
    fi
  done
  echo
  for name in "${scenarios[@]}"; do
    if [[ -f "$report/$name.notes.md" ]]; then cat "$report/$name.notes.md"; fi
  done
  cat <<'DOC'

## The scenarios

- **Fault soak** (`reliability::fault_soak`): per trial, `apply --auto-approve` with a share of
  ARM, Key Vault and Kubernetes requests failed by the sandbox (`PUT /_sandbox/faults`: a third
  each 429 with `Retry-After`, 500/503, and dropped connections), then `plan
  --detailed-exitcode`, then `destroy --auto-approve`, still faulted. A command that fails
  cleanly (exit 1 with an error, no panic) is run again, up to 5 runs, as a pipeline would.
- **SIGKILL campaign** (`reliability::sigkill_campaign`): alternately an apply and a destroy,
  SIGKILLed once the sandbox has answered a random number of its requests (from none to all of
  them, counted on the sandbox's journal; seeded), then one fault-free apply or destroy that
  must converge: it takes over the dead run's lock and finishes what it left.
- **Simultaneous applies** (`reliability::simultaneous_applies`): per trial, from a destroyed
  world, 5 applies started at once on the same repository and state: exactly one changes
  anything; the others stop at the run lock (exit 5) or find the state changed under them
  (exit 3) — or, started after the winner had finished, find nothing to do (exit 0, counted in
  the notes). Then the world must have converged.
- **Canary sweep** (`reliability_canary::canary_sweep`): a unique random value (the canary) in
  the example vault as `db-password` and in the native Secret `payments/payments-db`, then every
  command at `-vvv` in every format — validate; plan (human, JSON, Markdown, `--out`,
  `--destroy`, `--refresh-only`); apply (saved change set and plan file); audit (human, JSON,
  SARIF, JUnit, `--output`); import; state list/show/rm; destroy; init; sandbox — and failing
  runs (a stale change set, an unknown address, a missing resource, an invalid plan). Every file
  in the repository is then grepped for the canary and its base64 forms: each run's stdout and
  stderr, the sandbox's own `-vvv` log, the state file and its `.backup`, the saved change sets
  and the audit reports; only the sandbox's `world.json`, the emulated vault's store, is left
  out. The sweep fails when `vaultwire --help` lists a command it does not run.

## Running it

The short version runs with the rest of the tests (`.ci/run`, or `cargo nextest run -E
'test(/reliability/)'`): 3 trials of each scenario (6 SIGKILLs) and a 10% fault soak, each well
within nextest's timeout. The long version is

```console
$ tests/reliability/run.sh
```

which runs each scenario in turn with nextest's `reliability` profile (no timeout), 20 trials, a
20% and a 40% fault soak, 60 SIGKILLs and 5 simultaneous applies × 20, and writes this file.
Its settings are environment variables (`TRIALS`, `KILLS`, `AT_ONCE`, `FAULT_RATES`, `SEED`);
the tests read `VAULTWIRE_RELIABILITY_TRIALS`, `_KILLS`, `_AT_ONCE`, `_FAULT_RATE`, `_ATTEMPTS`,
`_SEED`, `_REPORT` (a directory for the rows) and `_KEEP` (keep each scenario's repository, as
a failing scenario's always is). A failure prints the seed; the same seed replays the same kill
points, canary and fault choices (the processes' timing still varies).
DOC
} > docs/reliability.md

echo "wrote docs/reliability.md"
exit "$status"
