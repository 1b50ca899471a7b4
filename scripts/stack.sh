# The local stack, shared by `make run` and `make test`: moto, the OpenStack emulator (demo region),
# the identity emulator (or the identity service at IDENTITY_URL, with IDENTITY_TOKEN), the local
# API (which creates the table), and a demo network made through the API.
# shellcheck shell=bash
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_ORGANIZATION_ID=3f1e8a52-6c1d-4a7e-9b0f-2d5c8e9a1b01
DEMO_PROJECT_ID=7c2d9e41-5b8a-4f3c-a1d6-0e9f8b7a6c02
DEMO_REGION_ID=demo-region

# write_region: the region document (one OpenStack region, as a deployer writes it; images checked
# against SIGNING_KEY_FILE when set) and the region's credential in moto's Secrets Manager (read by
# the functions as in AWS).
write_region() {
  "$ROOT/.venv/bin/python" - "$STATE_DIR/regions.json" "$DEMO_REGION_ID" "$OPENSTACK_AUTH_URL" "${SIGNING_KEY_FILE:-}" <<'PY'
import json, sys
path, region, endpoint, key_file = sys.argv[1:5]
openstack = {"endpoint": endpoint, "serviceAccountSecret": f"region-{region}"}
if key_file:
    openstack["image"] = {"selector": {"signingKey": open(key_file).read()}}
document = {"regions": [{"id": region, "name": region, "description": "the local stack's region",
                         "type": "openstack", "openstack": openstack}]}
open(path, "w").write(json.dumps(document, indent=2) + "\n")
PY
  "$ROOT/.venv/bin/python" -c 'import json, sys; print(json.dumps({"domain-id": sys.argv[1], "user-id": sys.argv[2],
    "password": sys.stdin.read().strip(), "project-id": sys.argv[3]}))' \
    "$OPENSTACK_DOMAIN_ID" "$OPENSTACK_USER_ID" "$OPENSTACK_PROJECT_ID" <<< "$OPENSTACK_PASSWORD" \
    | "$TARGET_DIR/debug/local-api" secret --endpoint "$DYNAMODB_ENDPOINT" --name "region-$DEMO_REGION_ID"
}

write_stack_env() {
  cat > "$STATE_DIR/stack.env" <<ENV
API_URL=$API_URL
TOKEN=$TOKEN
IDENTITY_URL=$IDENTITY_URL
DYNAMODB_ENDPOINT=$DYNAMODB_ENDPOINT
TABLE_NAME=$TABLE_NAME
REGION_ID=$DEMO_REGION_ID
OPENSTACK_AUTH_URL=$OPENSTACK_AUTH_URL
OPENSTACK_DOMAIN_ID=$OPENSTACK_DOMAIN_ID
OPENSTACK_USER_ID=$OPENSTACK_USER_ID
OPENSTACK_PASSWORD=$OPENSTACK_PASSWORD
OPENSTACK_PROJECT_ID=$OPENSTACK_PROJECT_ID
${EMULATOR_URL:+EMULATOR_URL=$EMULATOR_URL
}DEMO_NETWORK_ID=$DEMO_NETWORK_ID
EVENT_BUS_NAME=$EVENT_BUS_NAME
EVENTS_ENDPOINT=$EVENTS_ENDPOINT
EVENTS_QUEUE_URL=$EVENTS_QUEUE_URL
DEMO_IMAGE_ID=$DEMO_IMAGE_ID
DEMO_FLAVOR_ID=$DEMO_FLAVOR_ID
DEMO_ORGANIZATION_ID=$DEMO_ORGANIZATION_ID
DEMO_PROJECT_ID=$DEMO_PROJECT_ID
REGIONS_FILE=$STATE_DIR/regions.json
SECRETS_ENDPOINT=$DYNAMODB_ENDPOINT
ENV
}

# start_cloud: the OpenStack the API talks to, by what the environment asks for:
#   OPENSTACK_AUTH_URL (+ OPENSTACK_DOMAIN_ID, OPENSTACK_USER_ID, OPENSTACK_PASSWORD,
#                      OPENSTACK_PROJECT_ID: the region's credential, as Unikorn's region secret
#                      holds it; OPENSTACK_SIGNING_KEY_FILE optional):
#                      a cloud someone already runs;
#   OPENSTACK=real:    real Keystone, Placement, Glance, Neutron and Nova started here
#                      (tests/real-openstack/, about a minute and a half);
#   neither:           the OpenStack emulator, seeded with a demo region.
# Sets OPENSTACK_AUTH_URL, the region credential and SIGNING_KEY_FILE;
# EMULATOR_URL only for the emulator. The DEMO_* image and flavor come from the region's catalogue
# (demo_catalogue), as a client reads them.
start_cloud() {
  EMULATOR_URL=""
  SIGNING_KEY_FILE="$ROOT/tests/fixtures/signing/public.pem"
  if [ -n "${OPENSTACK_AUTH_URL:-}" ]; then
    local name
    for name in OPENSTACK_DOMAIN_ID OPENSTACK_USER_ID OPENSTACK_PASSWORD OPENSTACK_PROJECT_ID; do
      [ -n "${!name:-}" ] || { echo "OPENSTACK_AUTH_URL needs $name too" >&2; return 1; }
    done
    SIGNING_KEY_FILE="${OPENSTACK_SIGNING_KEY_FILE:-}"
  elif [ "${OPENSTACK:-}" = real ]; then
    bash "$ROOT/scripts/venv.sh" real
    local env="$STATE_DIR/real-openstack.json"
    echo "starting real OpenStack (Keystone, Placement, Glance, Neutron, Nova): about a minute and a half..." >&2
    start_real_openstack "$env"
    for _ in $(seq 1 600); do [ -s "$env" ] && break; sleep 0.5; done
    local values
    values="$("$ROOT/.venv/bin/python" - "$env" <<'PY'
import json, sys
env = json.load(open(sys.argv[1]))
if "error" in env:
    sys.exit("real OpenStack did not start: " + env["error"])
demo = env["demo"]
print(env["auth_url"], demo["domain_id"], demo["user_id"], demo["password"], demo["project_id"])
PY
)" || { cat "$STATE_DIR/real-openstack.log" >&2; return 1; }
    read -r OPENSTACK_AUTH_URL OPENSTACK_DOMAIN_ID OPENSTACK_USER_ID OPENSTACK_PASSWORD OPENSTACK_PROJECT_ID <<< "$values"
  else
    start_service EMULATOR_URL emulator "$TARGET_DIR/debug/openstack-emulator"
    OPENSTACK_AUTH_URL="$EMULATOR_URL/identity/v3"
    # The emulator's region user (tests/openstack-emulator/src/seed.rs).
    OPENSTACK_DOMAIN_ID=default
    OPENSTACK_USER_ID=9d3a7c51e2b84f06a1c4e8b2d7f0a3c5
    OPENSTACK_PASSWORD=region-user-password
    OPENSTACK_PROJECT_ID=5ef70662f8b34079a6eddb8da9d75fe8
  fi
}

# demo_catalogue: DEMO_IMAGE_ID and DEMO_FLAVOR_ID from the region's catalogue, as uni-ui pairs them:
# the first ready image the region offers, and the smallest flavor of its architecture whose disk
# holds it.
demo_catalogue() {
  local region="$API_URL/api/v1/organizations/$DEMO_ORGANIZATION_ID/regions/$DEMO_REGION_ID" images flavors ids
  images=$(curl -sS --fail-with-body "$region/images" -H "Authorization: Bearer $TOKEN") || { echo "$images" >&2; return 1; }
  flavors=$(curl -sS --fail-with-body "$region/flavors" -H "Authorization: Bearer $TOKEN") || { echo "$flavors" >&2; return 1; }
  ids=$("$ROOT/.venv/bin/python" -c '
import json, sys
images, flavors = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for image in images:
    fits = [f for f in flavors if f["spec"]["disk"] >= image["spec"]["sizeGiB"]
            and f["spec"]["architecture"] == image["spec"]["architecture"] and "gpu" not in f["spec"]]
    if fits:
        print(image["metadata"]["id"], fits[0]["metadata"]["id"])
        sys.exit(0)
sys.exit("the region offers no ready image with a flavor that holds it (images: %d, flavors: %d)" % (len(images), len(flavors)))
' "$images" "$flavors") || return 1
  read -r DEMO_IMAGE_ID DEMO_FLAVOR_ID <<< "$ids"
}

# wait_provisioned ID: waits (at most 60 s) for the network to be provisioned; its reason otherwise.
wait_provisioned() {
  local shown status
  for _ in $(seq 1 120); do
    shown=$(curl -sS -H "Authorization: Bearer $TOKEN" "$API_URL/api/v2/networks/$1")
    status=$(printf '%s' "$shown" | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["provisioningStatus"])' 2>/dev/null || true)
    [ "$status" = provisioned ] && return 0
    sleep 0.5
  done
  echo "the demo network was not provisioned: $shown" >&2
  return 1
}

# start_stack: starts everything (stopped by `cleanup`), sets API_URL, TOKEN, DEMO_NETWORK_ID, ...
# and writes $STATE_DIR/stack.env.
start_stack() {
  # Cargo's own progress goes to stderr: a cold first build takes minutes and should show it.
  echo "building the emulators and the local API (the first build takes a few minutes)..." >&2
  (cd "$ROOT" && cargo build -p openstack-emulator -p identity-emulator -p local-api)
  if [ -n "${VENV_PID:-}" ]; then
    wait "$VENV_PID" || { echo "installing the pinned tools failed (scripts/venv.sh)" >&2; return 1; }
  fi
  start_cloud
  # Any identity service can stand in for the emulator: IDENTITY_URL, and a token it issued.
  local own_identity=""
  if [ -n "${IDENTITY_URL:-}" ]; then
    [ -n "${IDENTITY_TOKEN:-}" ] || { echo "IDENTITY_URL needs IDENTITY_TOKEN (a token that identity issued)" >&2; return 1; }
  else
    own_identity=1
    start_service IDENTITY_URL identity "$TARGET_DIR/debug/identity-emulator"
  fi
  export IDENTITY_URL
  start_moto DYNAMODB_ENDPOINT
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  write_region

  # A fresh key per run seals the SSH private keys (the table lives only as long as the run).
  KEY_ENCRYPTION_KEY="$("$ROOT/.venv/bin/python" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
  export TABLE_NAME=region-servers DYNAMODB_ENDPOINT REGIONS_FILE="$STATE_DIR/regions.json" KEY_ENCRYPTION_KEY
  export SECRETS_ENDPOINT="$DYNAMODB_ENDPOINT" RUST_LOG="${RUST_LOG:-info}"
  # Server state-change events: the bus in moto (which serves EventBridge and SQS on the same
  # endpoint), a queue, and a rule sending every event to it; `make cleanup` publishes to the bus.
  EVENT_BUS_NAME=region-servers EVENTS_ENDPOINT="$DYNAMODB_ENDPOINT"
  EVENTS_QUEUE_URL="$("$TARGET_DIR/debug/local-api" events --endpoint "$EVENTS_ENDPOINT" --bus "$EVENT_BUS_NAME" --queue region-servers-events)"
  export EVENT_BUS_NAME EVENTS_ENDPOINT
  # The worker's queue and its dead-letter queue in moto; the local API works it as the worker
  # Lambda's event source does, and `make cleanup` fans its sweep out on it.
  SQS_ENDPOINT="$DYNAMODB_ENDPOINT"
  local queues
  queues="$("$TARGET_DIR/debug/local-api" queue --endpoint "$SQS_ENDPOINT" --name region-servers-work)"
  WORK_QUEUE_URL="$(printf '%s\n' "$queues" | sed -n 1p)"
  WORK_DEAD_LETTER_QUEUE_URL="$(printf '%s\n' "$queues" | sed -n 2p)"
  export SQS_ENDPOINT WORK_QUEUE_URL WORK_DEAD_LETTER_QUEUE_URL
  start_service API_URL api "$TARGET_DIR/debug/local-api" serve --listen "127.0.0.1:${API_PORT:-0}" --ingress-certificates
  if [ -n "$own_identity" ]; then
    TOKEN="$("$TARGET_DIR/debug/local-api" token --acl "$ROOT/tests/fixtures/acl/demo-admin.json" --sub demo-admin)"
  else
    TOKEN="$IDENTITY_TOKEN"
  fi

  # The demo network, as uni-ui makes one: Unikorn's body, provisioned by the worker (a project,
  # user and application credential of its own, a Neutron network, subnet and router).
  local network
  network=$(curl -sS --fail-with-body -X POST "$API_URL/api/v2/networks" \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"metadata\": {\"name\": \"demo-network\"}, \"spec\": {\"organizationId\": \"$DEMO_ORGANIZATION_ID\",
         \"projectId\": \"$DEMO_PROJECT_ID\", \"regionId\": \"$DEMO_REGION_ID\",
         \"prefix\": \"192.168.0.0/24\", \"dnsNameservers\": []}}")
  DEMO_NETWORK_ID=$(printf '%s' "$network" | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["id"])')
  wait_provisioned "$DEMO_NETWORK_ID" || return 1
  demo_catalogue
  write_stack_env
}
