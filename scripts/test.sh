#!/usr/bin/env bash
# `make test`: installs the pinned tools, starts moto (DynamoDB) on a free port, runs every test of
# the workspace (the OpenStack emulator is started in-process by the tests that need it), then
# checks formatting and lints. Fails loudly on the first failing step.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT INT TERM

bash "$ROOT/scripts/venv.sh"
cd "$ROOT"

start_moto DYNAMODB_ENDPOINT
export DYNAMODB_ENDPOINT
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
echo "moto (DynamoDB) at $DYNAMODB_ENDPOINT" >&2

echo "== cargo test" >&2
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$STATE_DIR/test.log"
echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
passed=$(grep -Eo '[0-9]+ passed' "$STATE_DIR/test.log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$STATE_DIR/test.log" | awk '{s+=$1} END {print s+0}')
echo "all tests: $passed passed, $failed failed"
