"""Validates the identity emulator's answers against identity's OpenAPI document.

Usage: identity.py SPEC EXCHANGES

SPEC is identity's `identity.spec.yaml` (its `common.spec.yaml` beside it), EXCHANGES a JSON list of
{"method", "path", "status", "body"} the test recorded. Every answer must be one the document
allows, body schema included; the exit code is 1 otherwise.
"""

import json
import sys

from jsonschema_path import SchemaPath
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse


def main() -> int:
    spec, exchanges = sys.argv[1], sys.argv[2]
    openapi = OpenAPI(SchemaPath.from_file_path(spec))
    failures = 0
    with open(exchanges, encoding="utf-8") as f:
        recorded = json.load(f)
    for ex in recorded:
        request = MockRequest("http://localhost", ex["method"].lower(), ex["path"])
        response = MockResponse(json.dumps(ex["body"]).encode(), status_code=ex["status"],
                                content_type="application/json")
        try:
            openapi.validate_response(request, response)
            print(f"ok   {ex['method']} {ex['path']} {ex['status']}")
        except Exception as e:  # noqa: BLE001 - every kind of mismatch is a finding
            failures += 1
            print(f"FAIL {ex['method']} {ex['path']} {ex['status']}: {e}")
            for cause in getattr(e, "schema_errors", []) or []:
                print(f"     {cause.message}")
    print(f"{len(recorded) - failures} of {len(recorded)} answers conform")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
