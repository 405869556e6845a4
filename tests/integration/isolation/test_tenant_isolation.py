"""Tenant B tries every route on tenant A's objects; cases come from the OpenAPI document.

One case per route (and per kind of check), generated at collection from
build/openapi/openapi.json, so a route added in any system is covered the moment it is in
the document. How cases are made and how a system registers a seeder, a body factory or an
exemption: README.md next to this file.
"""

from __future__ import annotations

from typing import Any

import pytest

import tests.integration.isolation.hooks  # noqa: F401  (registers every system's seeders, bodies, exemptions)
from tests.support.isolation import (
    CDK_OUT,
    REGISTRY,
    ApiDocument,
    Case,
    Harness,
    HarnessError,
    Kind,
    deployed_routes,
    load_document,
    plan,
)


def _generate() -> tuple[ApiDocument | None, list[Case], str | None]:
    try:
        document = ApiDocument(load_document())
    except HarnessError as error:
        return None, [], str(error)
    deployed = deployed_routes(CDK_OUT) if CDK_OUT.exists() else None
    return document, plan(document, REGISTRY, deployed), None


DOCUMENT, CASES, WHY_NO_CASES = _generate()


def cases(kind: Kind) -> list[object]:
    return [
        pytest.param(case, id=case.id, marks=[pytest.mark.skip(reason=case.exemption)] if case.exemption else [])
        for case in CASES
        if case.kind is kind
    ]


def expect_no_findings(findings: list[str]) -> None:
    if findings:
        pytest.fail("\n".join(f"- {finding}" for finding in findings), pytrace=False)


def test_the_cases_come_from_a_built_openapi_document() -> None:
    assert WHY_NO_CASES is None, WHY_NO_CASES
    assert CASES


@pytest.mark.parametrize("case", cases(Kind.OBJECT))
def test_another_tenants_object_answers_exactly_like_a_missing_one(case: Case, isolation: Harness) -> None:
    # Given objects A owns at this route (listed as A, or made by the route's seeder)
    # When B sends the route's request with A's ids, and with random ids of the same shape
    # Then both answer the same 404 problem, and A's object is as it was
    expect_no_findings(isolation.check(case))


@pytest.mark.parametrize("case", cases(Kind.LISTING))
def test_a_listing_never_shows_another_tenants_objects(case: Case, isolation: Harness) -> None:
    # Given A owns objects in this collection
    # When B lists it
    # Then no id of A's (nor A's tenant or user id) is anywhere in B's answer
    expect_no_findings(isolation.check(case))


@pytest.mark.parametrize("case", cases(Kind.SINGLETON))
def test_a_route_without_ids_reveals_nothing_of_another_tenant(case: Case, isolation: Harness) -> None:
    # Given A's tenant id, user id and object ids
    # When B calls a route that addresses its own scope (its workspace, itself)
    # Then none of them is in B's answer, and a write by B leaves A's view of the route unchanged
    expect_no_findings(isolation.check(case))


def test_the_cloud_serves_the_document_the_cases_came_from(cloud: Any, anonymous: Any) -> None:
    # Given the document the cases were generated from at collection
    assert DOCUMENT is not None, WHY_NO_CASES
    # When the running cloud is asked for its document
    served = anonymous.get("/api/openapi.json")
    # Then it is the same (the `isolation` fixture refuses to run any case otherwise)
    assert served.status == 200
    assert served.json == DOCUMENT.raw, "the served /api/openapi.json differs from build/: re-run `make synth`"


def test_every_route_the_api_gateway_serves_is_in_the_document() -> None:
    # Given the routes the synthesized templates put on the HTTP API
    deployed = set(deployed_routes(CDK_OUT))
    assert DOCUMENT is not None, WHY_NO_CASES
    # Then each is documented, so the suite generates cases for it, and each documented route is served
    documented = {route.key for route in DOCUMENT.routes}
    assert not deployed - documented, (
        f"served but not in the OpenAPI document (so never checked): {deployed - documented}"
    )
    assert not documented - deployed, f"documented but not on the HTTP API: {documented - deployed}"
