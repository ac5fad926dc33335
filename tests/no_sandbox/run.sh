#!/usr/bin/env bash
# A production build without the emulator (`cargo build --no-default-features`): it compiles,
# and `cloud = "sandbox"` and `vaultwire sandbox …` fail with exit 1, say the binary was built
# without the sandbox, and create nothing.
#   tests/no_sandbox/run.sh path/to/vaultwire-built-without-the-sandbox
set -euo pipefail
binary=$(realpath "$1")
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo/plans" "$repo/templates" "$work/"
mkdir "$work/state"
cd "$work"

expect_refusal() {
  local status=0
  "$binary" "$@" >out.txt 2>err.txt || status=$?
  if [[ $status -ne 1 ]]; then
    echo "vaultwire $*: exit $status, expected 1" >&2
    cat out.txt err.txt >&2
    exit 1
  fi
  if ! grep -q 'built without the sandbox' err.txt; then
    echo "vaultwire $*: the error does not say the binary was built without the sandbox" >&2
    cat err.txt >&2
    exit 1
  fi
  if [[ -e .vaultwire ]]; then
    echo "vaultwire $*: created .vaultwire/" >&2
    exit 1
  fi
}

expect_refusal plan plans/example.toml
expect_refusal apply --auto-approve plans/example.toml
expect_refusal sandbox serve
expect_refusal sandbox reset
# What needs no cloud still works.
"$binary" validate plans/example.toml >/dev/null
echo "no-sandbox build: ok"
