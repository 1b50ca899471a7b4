#!/usr/bin/env bash
# Runs schemathesis against the local stack (started by the caller with start_stack): a server, and
# a v1 identity with a network, are made first so path ids are real; fails on any 5xx, any response the OpenAPI document does not
# describe, or fewer than MIN_REQUESTS generated requests.
set -euo pipefail
: "${API_URL:?start the stack first}" "${TOKEN:?}" "${DEMO_NETWORK_ID:?}"
MIN_REQUESTS="${MIN_REQUESTS:-300}"
server=$(curl -sS --fail-with-body -X POST "$API_URL/api/v2/servers" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d "{\"metadata\": {\"name\": \"fuzz-target\"}, \"spec\": {\"networkId\": \"$DEMO_NETWORK_ID\", \"flavorId\": \"$DEMO_FLAVOR_ID\", \"imageId\": \"$DEMO_IMAGE_ID\"}}")
export FUZZ_SERVER_ID FUZZ_NETWORK_ID="$DEMO_NETWORK_ID"
id_of() { "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["id"])'; }
FUZZ_SERVER_ID=$(printf '%s' "$server" | id_of)
export FUZZ_ORGANIZATION_ID="$DEMO_ORGANIZATION_ID" FUZZ_PROJECT_ID="$DEMO_PROJECT_ID" FUZZ_IDENTITY_ID
identities="$API_URL/api/v1/organizations/$DEMO_ORGANIZATION_ID/projects/$DEMO_PROJECT_ID/identities"
FUZZ_IDENTITY_ID=$(curl -sS --fail-with-body -X POST "$identities" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d "{\"metadata\": {\"name\": \"fuzz\"}, \"spec\": {\"regionId\": \"$DEMO_REGION_ID\"}}" | id_of)
log="$STATE_DIR/schemathesis.log"
set +e
"$ROOT/.venv-api/bin/schemathesis" --config-file "$ROOT/tests/schemathesis/schemathesis.toml" run "$ROOT/openapi.yaml" \
  --url "$API_URL" -H "Authorization: Bearer $TOKEN" --max-examples "${MAX_EXAMPLES:-40}" --seed "${FUZZ_SEED:-20261125}" \
  --no-color > "$log" 2>&1
status=$?
set -e
sed -n '/SUMMARY/,$p' "$log"
generated=$(grep -Eo '[0-9]+ generated' "$log" | head -1 | awk '{print $1}')
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed; the whole report is in $log:" >&2
  cat "$log" >&2
  exit "$status"
fi
if [ "${generated:-0}" -lt "$MIN_REQUESTS" ]; then
  echo "schemathesis generated ${generated:-0} requests, fewer than $MIN_REQUESTS" >&2
  exit 1
fi
echo "schemathesis: $generated requests generated, 0 failures"
