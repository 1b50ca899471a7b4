#!/usr/bin/env bash
# `make token ACL=<json file> [SUB=<name>]`: registers a token holding that ACL with the identity
# emulator of the running `make run` stack (IDENTITY_URL, else .local/stack.env's) and prints it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
acl="${1:-}"
[ -n "$acl" ] || { echo "usage: make token ACL=<json file> [SUB=<name>]" >&2; exit 2; }
[ -f "$acl" ] || { echo "no such ACL file: $acl" >&2; exit 2; }
cd "$root"
if [ -z "${IDENTITY_URL:-}" ] && [ -f .local/stack.env ]; then
  IDENTITY_URL="$(sed -n 's/^IDENTITY_URL=//p' .local/stack.env)"
fi
[ -n "${IDENTITY_URL:-}" ] || { echo "no identity emulator: start \`make run\` first (or set IDENTITY_URL)" >&2; exit 2; }
export IDENTITY_URL
cargo build --quiet -p local-api
exec "${CARGO_TARGET_DIR:-$root/target}/debug/local-api" token --acl "$acl" --sub "${2:-local-user}"
