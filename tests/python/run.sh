#!/usr/bin/env bash
# Checks (run by .ci/run) that Python's azure-identity (MSAL) gets tokens from a served sandbox through
# OpenID discovery, and that the Azure SDKs with the public cloud's defaults work through the
# sandbox's proxy. Needs PyPI (installs azure-identity into a throwaway venv) and a built
# `vaultwire` (default target/debug/vaultwire). Not part of `cargo test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VAULTWIRE_BIN:-$root/target/debug/vaultwire}
work=$(mktemp -d)
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet azure-identity azure-mgmt-resource azure-keyvault-secrets
"$bin" sandbox serve --dir "$work/sb" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 300); do [ -f "$work/sb/server.json" ] && break; sleep 0.1; done
# shellcheck disable=SC1091
. "$work/sb/env"
"$work/venv/bin/python" "$root/tests/python/sandbox_discovery.py"
"$work/venv/bin/python" "$root/tests/python/sdk_through_proxy.py"
