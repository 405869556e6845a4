"""Merge every enabled system's OpenAPI document into build/openapi/openapi.json.

Each system's API function is a Powertools resolver (`functions.<system>.handlers.api:app`)
with validation on, so it already knows its routes and models. This script,
run before synth, merges them into one OpenAPI 3.1 document that CloudFront
(and the local cloud) serve at `/api/openapi.json`. The set of systems is the
one the CDK app uses: `cdk.json` context `ninefold:systems`, or `NINEFOLD_SYSTEMS`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pathlib
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "openapi" / "openapi.json"


def enabled_systems() -> list[str]:
    override = os.environ.get("NINEFOLD_SYSTEMS")
    if override:
        return [s.strip() for s in override.split(",") if s.strip()]
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    systems = context["ninefold:systems"]
    return systems.split(",") if isinstance(systems, str) else list(systems)


def system_document(system: str) -> dict[str, Any] | None:
    module_name = f"functions.{system}.handlers.api"
    if (
        importlib.util.find_spec(f"functions.{system}") is None
        or not (ROOT / "functions" / system / "handlers" / "api.py").exists()
    ):
        return None
    app = importlib.import_module(module_name).app
    document: dict[str, Any] = json.loads(app.get_openapi_json_schema())
    return document


def merge(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Ninefold API",
            "version": "1",
            "description": "Every system's routes. "
            "Authenticate with `Authorization: Bearer <session token or API key>`.",
        },
        "servers": [{"url": "/"}],
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "tags": [],
    }
    for system, document in sorted(documents.items()):
        merged["tags"].append({"name": system})
        for path, operations in document.get("paths", {}).items():
            if path in merged["paths"]:
                raise SystemExit(f"{system} declares {path}, which another system already owns")
            merged["paths"][path] = operations
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            existing = merged["components"]["schemas"].get(name)
            if existing is not None and existing != schema:
                raise SystemExit(f"schema {name} differs between systems; give {system}'s model its own name")
            merged["components"]["schemas"][name] = schema
    return merged


def public_route_keys() -> set[str]:
    """Route keys the stacks declare without an authorizer (`stacks/routes.py` route tables)."""
    from stacks import routes

    keys: set[str] = set()
    for value in vars(routes).values():
        if isinstance(value, routes.RouteTable):
            keys |= set(value.public)
    return keys


def mark_public(document: dict[str, Any], public: set[str]) -> None:
    """Public operations override the document-wide bearer requirement with `security: []`."""
    for key in public:
        method, path = key.split(" ", 1)
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is not None:
            operation["security"] = []


def main() -> int:
    documents = {}
    for system in enabled_systems():
        document = system_document(system)
        if document is not None:
            documents[system] = document
    merged = merge(documents)
    mark_public(merged, public_route_keys())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(
        f"wrote {OUT.relative_to(ROOT)} ({sum(len(d.get('paths', {})) for d in documents.values())} paths)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
