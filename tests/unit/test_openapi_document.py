"""The merged OpenAPI document: every enabled system's routes, public ones marked as such."""

from __future__ import annotations

import pytest

from scripts import openapi
from stacks.routes import IDENTITY


@pytest.fixture(scope="module")
def document() -> dict[str, object]:
    documents = {s: d for s in ("identity", "safety") if (d := openapi.system_document(s)) is not None}
    merged = openapi.merge(documents)
    openapi.mark_public(merged, openapi.public_route_keys())
    return merged


def test_public_routes_need_no_credential_and_the_rest_inherit_bearer(document: dict[str, object]) -> None:
    paths = document["paths"]
    assert isinstance(paths, dict)
    assert document["security"] == [{"bearer": []}]
    for key in IDENTITY.public:
        method, path = key.split(" ", 1)
        assert paths[path][method.lower()]["security"] == [], key
    for key in IDENTITY.authorized:
        method, path = key.split(" ", 1)
        assert "security" not in paths[path][method.lower()], key


def test_a_route_declared_by_two_systems_is_refused() -> None:
    doc = {"paths": {"/api/v1/x": {"get": {}}}, "components": {"schemas": {}}}
    with pytest.raises(SystemExit, match="already owns"):
        openapi.merge({"a": doc, "b": doc})


def test_conflicting_schemas_with_one_name_are_refused() -> None:
    a = {"paths": {}, "components": {"schemas": {"Page": {"type": "object"}}}}
    b = {"paths": {}, "components": {"schemas": {"Page": {"type": "array"}}}}
    with pytest.raises(SystemExit, match="differs"):
        openapi.merge({"a": a, "b": b})
