#!/usr/bin/env bash
# Creates a project-local virtualenv with pinned tools; re-installs only when its requirements
# file changed. Only the package registry is used.
#   venv.sh              -> .venv       (scripts/requirements.txt: moto, openstacksdk, cargo-lambda)
#   venv.sh sam          -> .venv-sam   (scripts/requirements-sam.txt: aws-sam-cli, cfn-lint; SAM
#                                        brings its own older boto3, so it lives apart from moto)
#   venv.sh api          -> .venv-api   (scripts/requirements-api.txt: schemathesis, openapi-spec-validator)
#   venv.sh real         -> .venv-real  (scripts/requirements-real.txt: real OpenStack services, tests/real-openstack/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
name="${1:-}"
if [ -n "$name" ]; then
  venv="$root/.venv-$name"; req="$root/scripts/requirements-$name.txt"
else
  venv="$root/.venv"; req="$root/scripts/requirements.txt"
fi
stamp="$venv/.requirements.sha"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "installing $(basename "$req") into $(basename "$venv") (a few minutes the first time)..." >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "venv ready: $venv" >&2
