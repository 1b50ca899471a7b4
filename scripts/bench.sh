#!/usr/bin/env bash
# `make bench`: builds every function and the hello-world baseline with the release profile, the
# arm64 zips, and the harness; starts moto; prints one table (also saved to .local/bench.md).
# BENCH_COLD, BENCH_WARM, BENCH_OVERHEAD size the runs; BENCH_BEFORE (a folder of another build's
# release binaries) and BENCH_BEFORE_ZIPS (its target/lambda) add a before column.
set -euo pipefail
source "$(dirname "$0")/stack.sh"
trap cleanup EXIT INT TERM
cd "$ROOT"
export AWS_DEFAULT_REGION=us-east-1

functions=(authorizer cleanup create get list update delete networks power console snapshot sshcas regions)
bash scripts/venv.sh
echo "== release build: every function and the baseline (fat LTO: several minutes on 2 cores)" >&2
cargo build --release $(printf -- '-p %s ' "${functions[@]}") -p hello-lambda
echo "== arm64 zips" >&2
PATH="$ROOT/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip \
  $(printf -- '-p %s ' "${functions[@]}")
echo "== bench harness" >&2
cargo build --profile harness -p bench

start_moto DYNAMODB_ENDPOINT
export DYNAMODB_ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
echo "== bench (moto at $DYNAMODB_ENDPOINT)" >&2
BENCH_BINS="$TARGET_DIR/release" BENCH_ZIPS="$TARGET_DIR/lambda" "$TARGET_DIR/harness/bench" | tee "$STATE_DIR/bench.md"
