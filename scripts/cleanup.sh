#!/usr/bin/env bash
# `make cleanup`: one pass of the cleanup function (what the schedule runs every minute in AWS)
# against the stack `make run` started; prints the run's report.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
env_file="$root/.local/stack.env"
[ -f "$env_file" ] || { echo "no $env_file: start the stack with \`make run\` first" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 RUST_LOG="${RUST_LOG:-warn}"
cd "$root"
cargo build -p local-api
"${CARGO_TARGET_DIR:-$root/target}/debug/local-api" cleanup
