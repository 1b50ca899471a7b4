"""Checks that the project's openapi.yaml is a superset of Unikorn's document for the routes both
serve: every request body and success response names the same component schema as Unikorn's, and
every property Unikorn's schema has (recursively, through $ref and allOf) is in ours.

Usage: superset.py UNIKORN_SPEC OURS PREFIX... (the paths compared). Prints what is missing, naming
the route and the field.
"""

import sys
from pathlib import Path

import yaml


class Doc:
    def __init__(self, path: Path):
        self.path = path
        self.root = yaml.safe_load(path.read_text())
        self.others: dict[str, dict] = {}

    def load(self, file: str) -> dict:
        if not file:
            return self.root
        if file not in self.others:
            self.others[file] = yaml.safe_load((self.path.parent / file).read_text())
        return self.others[file]

    def resolve(self, node, file=""):
        """Follows $ref; answers (node, file it lives in, component name if it was a schema ref)."""
        name = None
        while isinstance(node, dict) and "$ref" in node:
            ref_file, _, pointer = node["$ref"].partition("#")
            file = ref_file or file
            target = self.load(file)
            for part in pointer.strip("/").split("/"):
                target = target[part]
            if pointer.startswith("/components/schemas/"):
                name = pointer.rsplit("/", 1)[1]
            node = target
        return node, file, name

    def properties(self, schema, file="", depth=0) -> dict:
        """Property name -> (schema, file), merging allOf."""
        schema, file, _ = self.resolve(schema, file)
        out = {}
        for part in schema.get("allOf", []):
            out.update(self.properties(part, file, depth))
        for key, value in (schema.get("properties") or {}).items():
            out[key] = (value, file)
        items = schema.get("items")
        if items is not None and depth < 8:
            out.update({f"[]{k}": v for k, v in self.properties(items, file, depth + 1).items()})
        return out

    def body_schema(self, operation: dict, kind: str, status: str | None = None):
        if kind == "request":
            node = operation.get("requestBody")
        else:
            node = (operation.get("responses") or {}).get(status)
        node, file, _ = self.resolve(node or {})
        content = (node.get("content") or {}).get("application/json")
        return (content or {}).get("schema"), file


def compare(theirs: Doc, ours: Doc, route: str, a, a_file, b, b_file, path="", depth=0) -> list[str]:
    missing = []
    _, _, a_name = theirs.resolve(a, a_file)
    _, _, b_name = ours.resolve(b, b_file)
    if depth == 0 and a_name and a_name != b_name:
        missing.append(f"{route}: schema named {b_name!r}, Unikorn's is {a_name!r}")
    if depth > 6:
        return missing
    mine = ours.properties(b, b_file)
    for key, (schema, file) in theirs.properties(a, a_file).items():
        if key not in mine:
            missing.append(f"{route}: {path}{key} is missing")
            continue
        missing += compare(theirs, ours, route, schema, file, mine[key][0], mine[key][1], f"{path}{key}.", depth + 1)
    return missing


def main() -> int:
    theirs, ours = Doc(Path(sys.argv[1])), Doc(Path(sys.argv[2]))
    prefixes = tuple(sys.argv[3:])
    problems, checked = [], 0
    for path, methods in ours.root["paths"].items():
        their_methods = theirs.root["paths"].get(path)
        if not their_methods or not path.startswith(prefixes):
            continue
        for method, operation in methods.items():
            theirs_op = their_methods.get(method)
            if method == "parameters" or not isinstance(theirs_op, dict):
                continue
            route = f"{method.upper()} {path}"
            pairs = [("request", None)] + [("response", s) for s in theirs_op.get("responses", {}) if s.startswith("2")]
            for kind, status in pairs:
                a, a_file = theirs.body_schema(theirs_op, kind, status)
                if a is None:
                    continue
                b, b_file = ours.body_schema(operation, kind, status)
                if b is None:
                    problems.append(f"{route}: no {kind} body{'' if status is None else ' for ' + status}")
                    continue
                checked += 1
                problems += compare(theirs, ours, f"{route} {kind}{'' if status is None else ' ' + status}",
                                    a, a_file, b, b_file)
    print(f"superset: {checked} request and response bodies compared with Unikorn's; {len(problems)} gaps")
    for problem in problems:
        print(f"  GAP: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
