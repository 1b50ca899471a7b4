# Helpers for the project's scripts: start services on free loopback ports and stop them on exit.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${STATE_DIR:-$ROOT/.local}"
# Where cargo puts binaries: CARGO_TARGET_DIR when set, as cargo itself does.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$STATE_DIR"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# start_service VAR NAME CMD...: runs CMD in the background (in this shell, so cleanup can stop
# it), waits for its first stdout line (its URL) and stores that line in VAR.
# Logs go to $STATE_DIR/NAME.log.
start_service() {
  local var="$1" name="$2"; shift 2
  local out="$STATE_DIR/$name.url" log="$STATE_DIR/$name.log"
  : > "$out"
  "$@" > "$out" 2> "$log" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 300); do
    if [ -s "$out" ]; then
      printf -v "$var" '%s' "$(head -n 1 "$out")"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start; its log follows:" >&2
  cat "$log" >&2
  return 1
}

# start_moto VAR: DynamoDB (moto, single-threaded) on a free port.
start_moto() {
  start_service "$1" moto "$ROOT/.venv/bin/python" "$ROOT/scripts/moto_server.py" 0
}

# start_real_openstack FILE: real Keystone, Placement, Glance, Neutron and Nova in the background
# (tests/real-openstack/launch.py, ~1-2 min to be ready); FILE receives their environment (JSON)
# once they answer, or {"error": ...} if they fail. The tests wait for it, so the tier starts
# while the rest of the build runs. cleanup stops it.
start_real_openstack() {
  local env="$1"
  rm -f "$env"
  "$ROOT/.venv-real/bin/python" "$ROOT/tests/real-openstack/launch.py" --env "$env" \
    > "$STATE_DIR/real-openstack.log" 2>&1 &
  PIDS+=("$!")
}
