"""Validates recorded API exchanges against Unikorn's published OpenAPI document.

Usage: validate.py SPEC EXCHANGES EXTENSIONS

SPEC is Unikorn region's `server.spec.yaml` (its `common.spec.yaml` beside it), EXCHANGES a JSON
list of {"method", "path", "query", "status", "headers", "body"} recorded by the conformance test,
EXTENSIONS `docs/contract-extensions.json`: its `extensions` list the answers this product
deliberately gives beyond Unikorn's document (method, path glob, status, why); those are checked
against Unikorn's error schema instead. Its `standIns` name, for each route Unikorn's document
lacks, the documented route whose answers it gives: its responses are validated as that route's. Anything else Unikorn's document does not allow is
reported with its route and the offending field, and the exit code is 1.
"""

import fnmatch
import json
import re
import sys
from pathlib import Path

import yaml
from jsonschema_path import SchemaPath
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator


def extensions(doc: dict) -> set[tuple[str, str, int]]:
    """(method, path template glob, status) of the deliberate extensions; method may be ANY."""
    return {(row["method"], row["path"], int(row["status"])) for row in doc["extensions"]}


def stand_ins(doc: dict) -> list[tuple[str, str, str, str]]:
    """(method, our template, their method, their template) of the routes beyond the document."""
    return [(r["method"], r["path"], r["answersAsMethod"], r["answersAsPath"]) for r in doc.get("standIns", [])]


def stand_in(rows, method: str, path: str) -> tuple[str, str] | None:
    """The documented (method, path) whose answers a route beyond the document gives, if it is one."""
    for ours_method, ours, theirs_method, theirs in rows:
        pattern = "^" + re.sub(r"\{([^}]+)\}", r"(?P<\1>[^/]+)", ours) + "$"
        found = re.match(pattern, path)
        if ours_method == method and found:
            return theirs_method, re.sub(r"\{([^}]+)\}", lambda m: found.group(m.group(1)), theirs)
    return None


def template_of(spec: dict, path: str) -> str | None:
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            return template
    return None


def main() -> int:
    spec_path, exchanges_path, extensions_path = map(Path, sys.argv[1:4])
    doc = json.loads(extensions_path.read_text())
    raw = yaml.safe_load(spec_path.read_text())
    openapi = OpenAPI(SchemaPath.from_file_path(str(spec_path)))
    common = yaml.safe_load((spec_path.parent / "common.spec.yaml").read_text())
    error_schema = common["components"]["schemas"]["error"]
    allowed = extensions(doc)
    beyond = stand_ins(doc)
    exchanges = json.loads(exchanges_path.read_text())
    failures, used = [], set()
    conforming = 0
    for ex in exchanges:
        method, path, status = ex["method"], ex["path"], ex["status"]
        standing = stand_in(beyond, method, path)
        if standing:
            used.add(("as", f"{method} {path}", f"{standing[0]} {standing[1]}"))
            method, path = standing
        template = template_of(raw, path)
        route = f"{method} {template or path} -> {status}"
        if template is None:
            failures.append(f"{route}: the path is not in Unikorn's document")
            continue
        listed = next((row for row in sorted(allowed) if row[2] == status and row[0] in (method, "ANY")
                       and fnmatch.fnmatchcase(template, row[1])), None)
        if listed:
            used.add(listed)
            errors = sorted(OAS30Validator(error_schema).iter_errors(ex["body"]), key=str)
            if errors:
                failures.append(f"{route} (extension): {errors[0].json_path}: {errors[0].message}")
            continue
        body = b"" if ex["body"] is None else json.dumps(ex["body"]).encode()
        headers = {"Content-Type": "application/json"} if ex["body"] is not None else {}
        request = MockRequest("http://localhost", method.lower(), path, args=ex.get("query") or {})
        response = MockResponse(body, status_code=status, headers=headers,
                                content_type="application/json" if body else None)
        try:
            openapi.validate_response(request, response)
            conforming += 1
        except Exception as e:  # openapi-core raises one error type per failure kind
            causes = getattr(e, "schema_errors", None) or getattr(getattr(e, "__cause__", None), "schema_errors", None)
            detail = "; ".join(f"{c.json_path}: {c.message}" for c in (causes or [])[:3]) or f"{type(e).__name__}: {e}"
            failures.append(f"{route}: {detail}")
    print(f"conformance: {conforming} of {len(exchanges)} responses conform to Unikorn's document; "
          f"{len(exchanges) - conforming - len(failures)} are listed extensions; {len(failures)} do not conform")
    for pair in sorted(used, key=str):
        if pair[0] == "as":
            print(f"  beyond the document: {pair[1]} answered as {pair[2]}")
        else:
            print(f"  extension used: {pair[0]} {pair[1]} -> {pair[2]}")
    for failure in failures:
        print(f"  NOT CONFORMING: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
