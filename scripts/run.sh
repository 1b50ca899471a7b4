#!/usr/bin/env bash
# `make run`: the whole API on loopback. Installs the pinned tools, starts moto (DynamoDB) and the
# OpenStack emulator (seeded with a demo region), starts the local API, creates the table, seeds a
# demo network through the API, writes .local/stack.env and prints a curl example.
# Ctrl-C or SIGTERM stops everything it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
trap 'exit 0' INT TERM

DEMO_ORGANIZATION_ID=3f1e8a52-6c1d-4a7e-9b0f-2d5c8e9a1b01
DEMO_PROJECT_ID=7c2d9e41-5b8a-4f3c-a1d6-0e9f8b7a6c02
DEMO_REGION_ID=demo-region
DEMO_IMAGE_ID=1bea47ed-f6a9-463b-b423-14b9cca9ad27
DEMO_FLAVOR_ID=2
OPENSTACK_APP_CRED_ID=a1b2c3d4e5f64789a0b1c2d3e4f5a6b7
OPENSTACK_APP_CRED_SECRET=demo-application-credential-secret

bash "$ROOT/scripts/venv.sh"
cd "$ROOT"
cargo build --quiet -p openstack-emulator -p local-api

start_service EMULATOR_URL emulator "$ROOT/target/debug/openstack-emulator"
OPENSTACK_AUTH_URL="$EMULATOR_URL/identity/v3"
start_moto DYNAMODB_ENDPOINT

cat > "$STATE_DIR/identities.json" <<JSON
[{"id": "demo-identity", "regionId": "$DEMO_REGION_ID", "organizationId": "$DEMO_ORGANIZATION_ID",
  "projectId": "$DEMO_PROJECT_ID", "authUrl": "$OPENSTACK_AUTH_URL",
  "applicationCredentialId": "$OPENSTACK_APP_CRED_ID", "applicationCredentialSecret": "$OPENSTACK_APP_CRED_SECRET"}]
JSON

# A fresh key per run seals the SSH private keys (the table lives only as long as the run).
KEY_ENCRYPTION_KEY="$("$ROOT/.venv/bin/python" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
export TABLE_NAME=region-servers DYNAMODB_ENDPOINT PROVIDER_IDENTITIES_FILE="$STATE_DIR/identities.json" KEY_ENCRYPTION_KEY
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 RUST_LOG="${RUST_LOG:-info}"
start_service API_URL api "$ROOT/target/debug/local-api" serve --listen "127.0.0.1:${API_PORT:-0}"
TOKEN="$("$ROOT/target/debug/local-api" token --acl "$ROOT/tests/fixtures/acl/demo-admin.json" --sub demo-admin)"

network=$(curl -sS --fail-with-body -X POST "$API_URL/api/v2/networks" \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"metadata\": {\"name\": \"demo-network\"}, \"spec\": {\"organizationId\": \"$DEMO_ORGANIZATION_ID\",
       \"projectId\": \"$DEMO_PROJECT_ID\", \"regionId\": \"$DEMO_REGION_ID\",
       \"providerNetworkId\": \"4f1c7d2e-0b9a-4c3d-8e7f-6a5b4c3d2e1f\"}}")
DEMO_NETWORK_ID=$(printf '%s' "$network" | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["id"])')

cat > "$STATE_DIR/stack.env" <<ENV
API_URL=$API_URL
TOKEN=$TOKEN
DYNAMODB_ENDPOINT=$DYNAMODB_ENDPOINT
TABLE_NAME=$TABLE_NAME
OPENSTACK_AUTH_URL=$OPENSTACK_AUTH_URL
OPENSTACK_APP_CRED_ID=$OPENSTACK_APP_CRED_ID
OPENSTACK_APP_CRED_SECRET=$OPENSTACK_APP_CRED_SECRET
EMULATOR_URL=$EMULATOR_URL
DEMO_NETWORK_ID=$DEMO_NETWORK_ID
DEMO_IMAGE_ID=$DEMO_IMAGE_ID
DEMO_FLAVOR_ID=$DEMO_FLAVOR_ID
DEMO_ORGANIZATION_ID=$DEMO_ORGANIZATION_ID
DEMO_PROJECT_ID=$DEMO_PROJECT_ID
ENV

cat <<MSG
The API is up at $API_URL (logs in $STATE_DIR/*.log; settings in $STATE_DIR/stack.env).
Try:

  source $STATE_DIR/stack.env
  curl -s -X POST "\$API_URL/api/v2/servers" -H "Authorization: Bearer \$TOKEN" \\
    -H 'Content-Type: application/json' \\
    -d '{"metadata": {"name": "web-1"}, "spec": {"networkId": "'\$DEMO_NETWORK_ID'", "flavorId": "'\$DEMO_FLAVOR_ID'", "imageId": "'\$DEMO_IMAGE_ID'"}}'
  curl -s "\$API_URL/api/v2/servers" -H "Authorization: Bearer \$TOKEN"

Press Ctrl-C to stop.
MSG
wait
