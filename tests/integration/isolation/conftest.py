"""The isolation suite's harness: tenant A owns, tenant B intrudes, one local cloud for both."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.cloud import SignedInUser, _sign_in
from tests.support.isolation import REGISTRY, ApiDocument, Harness, HarnessError, load_document


def generated_from() -> ApiDocument | str:
    """The document the cases are generated from, or why there is none (reported by a test)."""
    try:
        return ApiDocument(load_document())
    except HarnessError as error:
        return str(error)


@pytest.fixture(scope="session")
def isolation(cloud: Any, tenant_a: SignedInUser, tenant_b: SignedInUser, anonymous: Any) -> Harness:
    document = generated_from()
    if isinstance(document, str):
        pytest.fail(document, pytrace=False)
    served = anonymous.get("/api/openapi.json")
    if served.status != 200 or served.json != document.raw:
        pytest.fail(
            "the local cloud serves a different /api/openapi.json than build/openapi/openapi.json, which the "
            f"cases were generated from ({served.status}); re-run `make synth`. "
            f"Served: {json.dumps(served.json)[:300]}",
            pytrace=False,
        )
    return Harness(
        document=document,
        registry=REGISTRY,
        owner=tenant_a,
        intruder=tenant_b,
        cloud=cloud,
        settle=lambda: cloud.wait_idle(timeout=30),
        # A write to a route without ids may spend the caller's own session (sign-out,
        # revoke-all); a fresh tenant makes it, so that B stays signed in for the other cases.
        stranger=lambda: _sign_in(cloud, "Tenant C", f"usr_stranger_{uuid.uuid4().hex[:8]}"),
    )
