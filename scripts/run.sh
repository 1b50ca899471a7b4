#!/usr/bin/env bash
# `make run`: the whole API on loopback. Installs the pinned tools, starts moto (DynamoDB), the
# OpenStack emulator (seeded with a demo region) and the identity emulator (or uses IDENTITY_URL
# with IDENTITY_TOKEN), starts the local API, creates the table, seeds a demo network through the
# API, writes .local/stack.env and prints a curl example.
# Ctrl-C or SIGTERM stops everything it started.
set -euo pipefail
source "$(dirname "$0")/stack.sh"
trap cleanup EXIT
trap 'exit 0' INT TERM

# The pinned tools install while cargo builds (start_stack waits for them after the build): on a
# fresh clone that is half a minute off the wait.
bash "$ROOT/scripts/venv.sh" &
VENV_PID=$!
start_stack

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
