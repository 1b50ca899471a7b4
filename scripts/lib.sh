# Helpers for the project's scripts: start services on free loopback ports and stop them on exit.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${STATE_DIR:-$ROOT/.local}"
mkdir -p "$STATE_DIR"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}

# start_service NAME CMD...: runs CMD in the background, waits for its first stdout line (its URL)
# and prints that line. Logs go to $STATE_DIR/NAME.log.
start_service() {
  local name="$1"; shift
  local out="$STATE_DIR/$name.url" log="$STATE_DIR/$name.log"
  : > "$out"
  "$@" > "$out" 2> "$log" &
  PIDS+=("$!")
  local pid=$!
  for _ in $(seq 1 300); do
    if [ -s "$out" ]; then head -n 1 "$out"; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$name did not start; its log follows:" >&2
  cat "$log" >&2
  return 1
}

start_moto() {
  start_service moto "$ROOT/.venv/bin/python" "$ROOT/scripts/moto_server.py" "${1:-0}"
}
