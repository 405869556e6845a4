"""The isolation harness catches leaks: its checks run against a fake API that gets isolation wrong.

No sockets: the fake API (fake_api.py) is called in-process through the same `request`
interface the integration suite's HTTP clients have.
"""

from __future__ import annotations

import json
import random
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from tests.support.isolation import (
    ApiDocument,
    Case,
    Harness,
    HarnessError,
    Kind,
    Registry,
    UnsupportedSchema,
    deployed_routes,
    example,
    hidden_like_missing,
    load_document,
    lookalike,
    plan,
)
from tests.unit.isolation.fake_api import FakeNotesApi, FakeReply, FakeTenant, Leak, document

NOTE = "/api/v1/notes/{note_id}"
HEALTH_EXEMPTION = "a liveness probe: answers the same to everyone and reads no tenant data"


def registry() -> Registry:
    registry = Registry()
    registry.exempt("GET", "/api/v1/health", reason=HEALTH_EXEMPTION)
    return registry


def world(leak: Leak | None = None, *, notes: int = 2) -> tuple[FakeNotesApi, Harness, FakeTenant]:
    api = FakeNotesApi(leak)
    owner, intruder = api.sign_up("Tenant A", "usr_alice"), api.sign_up("Tenant B", "usr_bob")
    for n in range(notes):
        api.add_note(owner.tenant_id, f"A's note {n}")
    api.add_note(intruder.tenant_id, "B's note")
    harness = Harness(
        ApiDocument(document()),
        registry(),
        owner,
        intruder,
        stranger=lambda: api.sign_up("Tenant C", f"usr_{len(api.workspaces)}"),
    )
    return api, harness, owner


def case(harness: Harness, kind: Kind, key: str) -> Case:
    return next(c for c in plan(harness.document, harness.registry) if c.kind is kind and c.id == key)


def findings_for(leak: Leak | None, kind: Kind, key: str) -> list[str]:
    _, harness, _ = world(leak)
    return harness.check(case(harness, kind, key))


# --- case generation ----------------------------------------------------------------------------


def test_every_route_of_the_document_becomes_a_case_of_the_right_kind() -> None:
    # Given the fake API's document
    cases = plan(ApiDocument(document()), registry())

    # Then routes with ids are object cases, item listings are listing cases, the rest singletons
    assert [(c.kind.value, c.id) for c in cases] == [
        ("object", "DELETE /api/v1/notes/{note_id}"),
        ("object", "GET /api/v1/notes/{note_id}"),
        ("object", "PATCH /api/v1/notes/{note_id}"),
        ("listing", "GET /api/v1/notes"),
        ("singleton", "GET /api/v1/health"),
        ("singleton", "POST /api/v1/notes"),
        ("singleton", "GET /api/v1/workspace"),
        ("singleton", "PATCH /api/v1/workspace"),
    ]
    assert all(c.problem is None for c in cases)
    assert [c.exemption for c in cases if c.exemption] == [HEALTH_EXEMPTION]


def test_an_object_route_with_no_listing_and_no_seeder_fails_and_says_what_to_register() -> None:
    # Given a route with an id whose collection does not exist
    raw = document()
    raw["paths"]["/api/v1/stamps/{stamp_id}"] = {"get": raw["paths"][NOTE]["get"]}

    # When the cases are planned
    stamp = next(c for c in plan(ApiDocument(raw), registry()) if c.route.path == "/api/v1/stamps/{stamp_id}")

    # Then the case carries a failure that names the fix
    assert stamp.problem is not None
    assert "GET /api/v1/stamps is not in the document" in stamp.problem
    assert '@seeder("/api/v1/stamps/{stamp_id}")' in stamp.problem


def test_a_registered_seeder_supplies_the_ids_when_there_is_no_listing() -> None:
    # Given a route without a listing, and a seeder for it
    raw = document()
    raw["paths"]["/api/v1/stamps/{stamp_id}"] = {"get": raw["paths"][NOTE]["get"]}
    seeded = registry()
    calls: list[str] = []

    @seeded.seeder("/api/v1/stamps/{stamp_id}")
    def stamps(cloud: Any, tenant: Any) -> list[dict[str, str]]:
        calls.append(tenant.tenant_id)
        return [{"stamp_id": "0" * 32}]

    _, harness, owner = world()
    harness.document, harness.registry = ApiDocument(raw), seeded

    # When the case is planned and its ids are discovered (twice)
    stamp = next(c for c in plan(harness.document, seeded) if c.route.path == "/api/v1/stamps/{stamp_id}")
    found = harness.discover(stamp.route.path, owner), harness.discover(stamp.route.path, owner)

    # Then there is nothing to complain about, and the seeder ran once per tenant
    assert stamp.problem is None
    assert found == ([{"stamp_id": "0" * 32}], [{"stamp_id": "0" * 32}])
    assert calls == [owner.tenant_id]


def test_a_public_route_without_an_exemption_fails_and_says_how_to_exempt_it() -> None:
    # Given a route that declares no security, and one whose gateway route has no authorizer
    deployed = {"GET /api/v1/workspace": "NONE", "GET /api/v1/notes": "CUSTOM"}

    # When the cases are planned without exemptions
    cases = {c.id: c for c in plan(ApiDocument(document()), Registry(), deployed)}

    # Then both fail, saying why the route is public and how to exempt it
    health, workspace = cases["GET /api/v1/health"].problem, cases["GET /api/v1/workspace"].problem
    assert health is not None
    assert "declares no security requirement" in health
    assert 'exempt("GET", "/api/v1/health", reason="...")' in health
    assert workspace is not None
    assert "AuthorizationType NONE" in workspace
    assert cases["GET /api/v1/notes"].problem is None


def test_an_exemption_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        Registry().exempt("GET", "/api/v1/health", reason="  ")


def test_an_exemption_for_every_method_covers_each_of_them() -> None:
    exempting = Registry()
    exempting.exempt("*", NOTE, reason="a system-wide object, not a tenant's")
    cases = [c for c in plan(ApiDocument(document()), exempting) if c.route.path == NOTE]
    assert len(cases) == 3
    assert {c.exemption for c in cases} == {"a system-wide object, not a tenant's"}


def test_a_missing_or_placeholder_document_is_reported_with_the_command_that_builds_it(tmp_path: Path) -> None:
    missing = tmp_path / "openapi.json"
    with pytest.raises(HarnessError, match="make synth"):
        load_document(missing)
    missing.write_text("{}\n")  # what the CDK app writes when scripts/openapi.py did not run
    with pytest.raises(HarnessError, match="declares no routes"):
        load_document(missing)


def test_the_route_table_is_read_from_the_synthesized_templates(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "A": {
                "Type": "AWS::ApiGatewayV2::Route",
                "Properties": {"RouteKey": "GET /x", "AuthorizationType": "CUSTOM"},
            },
            "B": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "POST /hook"}},
            "C": {"Type": "AWS::Lambda::Function", "Properties": {}},
        }
    }
    (tmp_path / "Ninefold-X.template.json").write_text(json.dumps(template))
    assert deployed_routes(tmp_path) == {"GET /x": "CUSTOM", "POST /hook": "NONE"}


# --- the checks catch leaks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "key"),
    [(c.kind, c.id) for c in plan(ApiDocument(document()), registry()) if not c.exemption],
    ids=lambda v: str(v),
)
def test_a_correctly_isolated_api_passes_every_case(kind: Kind, key: str) -> None:
    assert findings_for(None, kind, key) == []


LEAKS = [
    (Leak.READ, Kind.OBJECT, f"GET {NOTE}", "got 200 instead of 404"),
    (Leak.FORBIDDEN, Kind.OBJECT, f"GET {NOTE}", "got 403 instead of 404"),
    (Leak.FORBIDDEN, Kind.OBJECT, f"DELETE {NOTE}", "got 403 instead of 404"),
    (Leak.TELLTALE, Kind.OBJECT, f"GET {NOTE}", "B can tell that A's object exists"),
    (Leak.PLAIN_404, Kind.OBJECT, f"PATCH {NOTE}", "not application/problem+json"),
    (Leak.WRITE_THROUGH, Kind.OBJECT, f"PATCH {NOTE}", "another tenant's write changed the object for A"),
    (Leak.DELETE_THROUGH, Kind.OBJECT, f"DELETE {NOTE}", "another tenant's write changed the object for A"),
    (Leak.LISTING, Kind.LISTING, "GET /api/v1/notes", "B's answer contains A's"),
    (Leak.CURSOR, Kind.LISTING, "GET /api/v1/notes", "with A's cursor, B's answer contains A's"),
    (Leak.SINGLETON, Kind.SINGLETON, "GET /api/v1/workspace", "B's answer contains A's"),
    (Leak.SINGLETON, Kind.SINGLETON, "PATCH /api/v1/workspace", "B's answer contains A's"),
    (Leak.RENAME_ALL, Kind.SINGLETON, "PATCH /api/v1/workspace", "changed GET /api/v1/workspace for A"),
    (Leak.CREATE_ELSEWHERE, Kind.SINGLETON, "POST /api/v1/notes", "changed GET /api/v1/notes for A"),
]


@pytest.mark.parametrize(("leak", "kind", "key", "expected"), LEAKS, ids=[f"{c[2]}: {c[0]}" for c in LEAKS])
def test_the_checker_reports_a_leaky_api(leak: Leak, kind: Kind, key: str, expected: str) -> None:
    # Given an API that leaks in one way
    # When the generated case for the route runs against it
    findings = findings_for(leak, kind, key)

    # Then the harness reports it
    assert any(expected in f for f in findings), findings


def test_a_finding_names_the_request_that_leaked() -> None:
    _, harness, owner = world(Leak.READ, notes=1)
    note_id = next(n for n, note in harness.owner.api.api.notes.items() if note["workspace_id"] == owner.tenant_id)  # type: ignore[attr-defined]
    findings = harness.check(case(harness, Kind.OBJECT, f"GET {NOTE}"))
    assert findings
    assert all(f.startswith(f"GET /api/v1/notes/{note_id}: ") for f in findings)


def test_a_write_without_ids_is_made_by_a_fresh_tenant_so_b_keeps_its_credential() -> None:
    # Given the harness can make strangers
    api, harness, owner = world()

    # When the workspace rename case runs
    harness.check(case(harness, Kind.SINGLETON, "PATCH /api/v1/workspace"))

    # Then the PATCH came from neither A nor B
    [renamer] = [caller for caller, method, _, _ in api.answered if method == "PATCH"]
    assert renamer not in {owner.tenant_id, harness.intruder.tenant_id}


def test_fields_registered_as_volatile_do_not_count_as_a_change() -> None:
    # Given a workspace view that changes on every read
    api, harness, _ = world()
    api.count_reads = True
    rename = case(harness, Kind.SINGLETON, "PATCH /api/v1/workspace")

    # Then, unregistered, the change is reported; registered as volatile, it is not
    assert any("changed GET /api/v1/workspace for A" in f for f in harness.check(rename))
    harness.registry.volatile("reads")
    assert harness.check(rename) == []


def test_the_owner_with_nothing_to_list_fails_the_case_and_asks_for_a_seeder() -> None:
    # Given A owns no note, and nothing seeds one
    _, harness, _ = world(notes=0)

    # When B's object case runs, Then it fails instead of passing vacuously
    [finding] = harness.check(case(harness, Kind.OBJECT, f"GET {NOTE}"))
    assert "owns nothing at /api/v1/notes/{note_id}" in finding
    assert '@seeder("/api/v1/notes/{note_id}")' in finding


def test_b_sends_a_schema_valid_body_so_a_write_is_refused_for_ownership_not_for_shape() -> None:
    # Given a correct API that validates bodies before it looks the note up
    api, harness, _ = world()

    # When B's PATCH case runs
    harness.check(case(harness, Kind.OBJECT, f"PATCH {NOTE}"))

    # Then every PATCH B sent got past validation: a 422 would have proved nothing about ownership
    statuses = {status for caller, method, _, status in api.answered if caller == harness.intruder.tenant_id}
    assert statuses == {404}


def test_a_body_that_cannot_be_generated_asks_for_a_body_factory_and_a_factory_is_used() -> None:
    # Given a write route whose body schema the generator cannot satisfy
    raw = document()
    raw["components"]["schemas"]["UpdateNote"] = {"type": "string", "minLength": 5, "maxLength": 2}
    _, harness, _ = world()
    harness.document = ApiDocument(raw)
    patch = case(harness, Kind.OBJECT, f"PATCH {NOTE}")

    # When the case runs, Then it asks for a body factory
    [finding] = harness.check(patch)
    assert '@body_factory("PATCH", "/api/v1/notes/{note_id}")' in finding

    # And once one is registered, it is used (and the correct API passes)
    harness.registry.body("PATCH", NOTE)(lambda cloud, tenant, params: {"pinned": True})
    harness.document = ApiDocument(document())
    assert harness.check(patch) == []


# --- the pure pieces ----------------------------------------------------------------------------


def problem_reply(status: int, detail: str, instance: str, content_type: str = "application/problem+json") -> FakeReply:
    body = {"type": "https://p/not-found", "title": "Not found", "status": status, "detail": detail}
    return FakeReply(status, {"content-type": content_type}, json.dumps({**body, "instance": instance}))


def test_two_identical_404_problems_differing_only_in_instance_are_indistinguishable() -> None:
    missing, foreign = problem_reply(404, "No such note.", "/a"), problem_reply(404, "No such note.", "/b")
    assert hidden_like_missing(foreign, missing) == []


def test_a_control_that_is_not_404_is_reported_rather_than_compared() -> None:
    findings = hidden_like_missing(problem_reply(404, "x", "/a"), problem_reply(422, "bad id", "/b"))
    assert any("control request" in f for f in findings)


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("5dde1f129fc74238b2ea6d8925fb7e95", r"^[0-9a-f]{32}$"),
        ("5dde1f12-9fc7-4238-b2ea-6d8925fb7e95", r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        ("5DDE1F12-9FC7-4238-B2EA-6D8925FB7E95", r"^[0-9A-F-]{36}$"),
        ("ses_767d729468a543d28de46a99e7f472bd", r"^ses_[a-f0-9]{32}$"),
        ("ws_ef95cec1ec5517fe98b0", r"^ws_[0-9a-f]{20}$"),
        ("01HZX3KQ7N2V4B8C9D0E1F2G3H", r"^[0-9A-Z]{26}$"),
        ("usr-alice", r"^[A-Za-z0-9_-]{1,64}$"),
        ("42", r"^\d+$"),
    ],
)
def test_a_lookalike_id_has_the_shape_of_the_real_one_but_is_another(value: str, pattern: str) -> None:
    fake = lookalike(value, pattern=pattern, rng=random.Random(7))
    assert fake != value
    assert len(fake) == len(value)
    assert re.search(pattern, fake)


def test_a_lookalike_keeps_each_characters_class_and_the_separators() -> None:
    fake = lookalike("usr-Alice_07", rng=random.Random(3))
    assert fake.startswith("usr-")
    assert [(c.isupper(), c.islower(), c.isdigit(), c) for c in fake if not c.isalnum()] == [
        (False, False, False, "-"),
        (False, False, False, "_"),
    ]
    assert [c.isupper() for c in fake] == [c.isupper() for c in "usr-Alice_07"]
    assert [c.isdigit() for c in fake] == [c.isdigit() for c in "usr-Alice_07"]


def test_a_lookalike_avoids_the_ids_it_is_told_exist() -> None:
    taken = {str(n) for n in range(10)} - {"3"}
    assert lookalike("7", avoid=taken, rng=random.Random(1)) == "3"


class Address(BaseModel):
    line: Annotated[str, Field(min_length=3, max_length=5)]
    postcode: Annotated[str, Field(pattern=r"^[A-Z]{2}\d{2} \d[A-Z]{2}$")]


class Seats(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["seats"] = "seats"
    count: Annotated[int, Field(ge=5, le=10, multiple_of=5)]


class Storage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["storage"] = "storage"
    gigabytes: Annotated[float, Field(gt=0, lt=0.75)]


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=20)]
    when: datetime
    day: date | None = None
    address: Address
    addresses: Annotated[list[Address], Field(min_length=2)]
    item: Annotated[Seats | Storage, Field(discriminator="kind")]
    flags: dict[str, bool] = {}
    note: str | None = None
    tags: set[Annotated[str, Field(max_length=3)]] = set()


@pytest.mark.parametrize("model", [Address, Seats, Storage, Order])
def test_a_generated_body_validates_against_the_model_it_was_generated_from(model: type[BaseModel]) -> None:
    # Given a model's schema as an OpenAPI document carries it (components, $ref)
    _, schemas = models_json_schema([(model, "validation")], ref_template="#/components/schemas/{model}")
    raw = {"components": {"schemas": schemas["$defs"]}}

    # When an instance is generated, Then the model accepts it
    model.model_validate(example({"$ref": f"#/components/schemas/{model.__name__}"}, ApiDocument(raw)))


def test_a_schema_no_value_can_satisfy_is_refused_with_its_place() -> None:
    impossible = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3, "maximum": 2}}}
    with pytest.raises(UnsupportedSchema, match=r"body\.n"):
        example(impossible, ApiDocument({}))


def test_a_pattern_beyond_classes_and_repeats_still_gets_a_matching_string() -> None:
    # A back-reference is outside the quick walk; Hypothesis writes (and shrinks) one instead.
    value = example({"type": "string", "pattern": r"^(ab)\1-[0-9]$"}, ApiDocument({}))
    assert re.fullmatch(r"(ab)\1-[0-9]", value)
