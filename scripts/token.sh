#!/usr/bin/env bash
# `make token ACL=<json file> [SUB=<name>]`: prints a bearer token the local API accepts.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
acl="${1:-}"
[ -n "$acl" ] || { echo "usage: make token ACL=<json file> [SUB=<name>]" >&2; exit 2; }
[ -f "$acl" ] || { echo "no such ACL file: $acl" >&2; exit 2; }
cd "$root"
cargo build --quiet -p local-api
exec "${CARGO_TARGET_DIR:-$root/target}/debug/local-api" token --acl "$acl" --sub "${2:-local-user}"
