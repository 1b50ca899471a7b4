#!/usr/bin/env bash
# `make test`: everything CI checks, failing loudly at the first broken step.
#  1. the pinned tools (.venv, .venv-sam, .venv-api, .venv-real), and real OpenStack started
#     in the background (tests/real-openstack/launch.py)
#  2. lints: OpenAPI document, `sam validate --lint`, cfn-lint
#  3. every test of the workspace, with its own moto on a free port (emulators start in-process),
#     `make bench` at its tiny size on the debug builds (every section runs to its end and every
#     answer it times is a success), and what each function's binary links (scripts/linking.sh)
#  4. schemathesis against the local stack (moto + emulator + local API)
#  5. `cargo lambda build --release --arm64 --output-format zip` of every function, with zip sizes
#  6. cargo fmt --check and cargo clippy -D warnings
# SKIP_LAMBDA_BUILD=1 skips step 5 for quick local runs (CI never sets it).
set -euo pipefail
source "$(dirname "$0")/stack.sh"
trap cleanup EXIT INT TERM
cd "$ROOT"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1

echo "== tools" >&2
bash scripts/venv.sh
bash scripts/venv.sh sam
bash scripts/venv.sh api
bash scripts/venv.sh real

# Real OpenStack starts now and comes up while the lints and the build run; the tests wait for it.
echo "== real OpenStack (Keystone, Placement, Glance, Neutron, Nova): starting in the background" >&2
export REAL_OPENSTACK_ENV="$STATE_DIR/real-openstack.json" REAL_OPENSTACK_REQUIRED=1
start_real_openstack "$REAL_OPENSTACK_ENV"

echo "== lint: OpenAPI document" >&2
.venv-api/bin/openapi-spec-validator openapi.yaml
echo "== lint: sam validate --lint" >&2
.venv-sam/bin/sam validate --lint --template-file infra/template.yaml
echo "== lint: cfn-lint" >&2
.venv-sam/bin/cfn-lint infra/template.yaml && echo "cfn-lint: no findings"

echo "== cargo test" >&2
start_moto DYNAMODB_ENDPOINT
export DYNAMODB_ENDPOINT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
echo "moto (DynamoDB) at $DYNAMODB_ENDPOINT" >&2
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$STATE_DIR/test.log"

echo "== make bench, tiny (debug builds: proves every section runs; the figures are make bench's)" >&2
# `cargo test` builds the libraries, not the binaries the start section runs (nor the harness).
cargo build --workspace --bins
if BENCH_SIZE=tiny BENCH_BINS="$TARGET_DIR/debug" "$TARGET_DIR/debug/bench" > "$STATE_DIR/bench-tiny.md" 2> "$STATE_DIR/bench-tiny.log"; then
  grep -c '^| ' "$STATE_DIR/bench-tiny.md" | xargs -I{} echo "bench (tiny): every section ran, {} table rows" >&2
  echo "test bench_tiny_runs_every_section ... ok" >> "$STATE_DIR/test.log"
  echo "test result: ok. 1 passed; 0 failed" >> "$STATE_DIR/test.log"
else
  grep -E 'FAILED|panicked|failed' "$STATE_DIR/bench-tiny.log" | tail -20 >&2
  echo "test result: FAILED. 0 passed; 1 failed" >> "$STATE_DIR/test.log"
  echo "make bench (tiny) failed: $STATE_DIR/bench-tiny.log" >&2
  exit 1
fi
cleanup

echo "== what each function links" >&2
bash scripts/linking.sh

echo "== schemathesis against the local API" >&2
start_stack
export API_URL TOKEN DEMO_NETWORK_ID DEMO_FLAVOR_ID DEMO_IMAGE_ID DEMO_ORGANIZATION_ID DEMO_PROJECT_ID DEMO_REGION_ID ROOT STATE_DIR
bash scripts/fuzz.sh
cleanup

if [ -z "${SKIP_LAMBDA_BUILD:-}" ]; then
  echo "== cargo lambda build --release --arm64 --output-format zip" >&2
  PATH="$ROOT/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip \
    --workspace --exclude integration-tests --exclude local-api --exclude openstack-emulator \
    --exclude bench --exclude hello-lambda
  for dir in functions/*/; do
    name=$(basename "$dir")
    zip="$TARGET_DIR/lambda/$name/bootstrap.zip"
    [ -f "$zip" ] || { echo "missing $zip" >&2; exit 1; }
    awk -v n="$name" -v b="$(stat -c %s "$zip")" 'BEGIN { printf "lambda zip %-10s %6.2f MiB (%d bytes)\n", n, b / 1048576, b }'
  done
fi

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy" >&2
cargo clippy --workspace --all-targets -- -D warnings
passed=$(grep -Eo '[0-9]+ passed' "$STATE_DIR/test.log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$STATE_DIR/test.log" | awk '{s+=$1} END {print s+0}')
echo "all tests: $passed passed, $failed failed"
