from __future__ import annotations

import json
from typing import Any

import pytest

from functions.safety.handlers import api, audit_consumer
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import WorkspaceRenamed
from ninefold_core.tenant import TenantContext
from tests.support.events import eventbridge_body, http_event, sqs_event

A = TenantContext(tenant_id="ws_aaaaaaaaaa", user_id="usr_a", permissions=frozenset({"audit:read"}))
B = TenantContext(tenant_id="ws_bbbbbbbbbb", user_id="usr_b", permissions=frozenset({"audit:read"}))


@pytest.fixture
def safety_env(table: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYSTEM", "safety")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "safety")
    monkeypatch.setenv("TABLE_NAME", table)
    return table


def renamed(ctx: TenantContext, name: str) -> dict[str, Any]:
    data = WorkspaceRenamed(workspace_id=ctx.tenant_id, old_name="x", new_name=name)
    return new_envelope(data, ctx).to_detail()


def get(path: str, ctx: TenantContext, lambda_context: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = api.handler(http_event("GET", path, ctx=ctx, **kwargs), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_events_are_recorded_once_in_their_own_tenants_log(safety_env: str, lambda_context: Any) -> None:
    a1, a2, b1 = renamed(A, "one"), renamed(A, "two"), renamed(B, "bee")
    batch = sqs_event([eventbridge_body(a1), eventbridge_body(a2), eventbridge_body(b1), eventbridge_body(a1)])

    assert audit_consumer.handler(batch, lambda_context) == {"batchItemFailures": []}

    status, page = get("/api/v1/audit-events", A, lambda_context)
    assert status == 200
    assert [e["id"] for e in page["items"]] == [a2["metadata"]["id"], a1["metadata"]["id"]]
    status, entry = get(f"/api/v1/audit-events/{a1['metadata']['id']}", A, lambda_context)
    assert (status, entry["type"], entry["actor_id"], entry["data"]["new_name"]) == (
        200,
        "workspace.renamed",
        "usr_a",
        "one",
    )


def test_tenant_b_cannot_see_tenant_a_audit_events(safety_env: str, lambda_context: Any) -> None:
    a1 = renamed(A, "secret")
    audit_consumer.handler(sqs_event([eventbridge_body(a1)]), lambda_context)

    status, problem = get(f"/api/v1/audit-events/{a1['metadata']['id']}", B, lambda_context)
    assert (status, problem["title"]) == (404, "Not found")
    assert get("/api/v1/audit-events", B, lambda_context)[1]["items"] == []


def test_the_log_pages_with_an_opaque_cursor_bound_to_the_tenant(safety_env: str, lambda_context: Any) -> None:
    details = [renamed(A, f"n{i}") for i in range(5)]
    audit_consumer.handler(sqs_event([eventbridge_body(d) for d in details]), lambda_context)
    status, first = get("/api/v1/audit-events", A, lambda_context, query={"limit": "2"})
    assert status == 200
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    status, second = get(
        "/api/v1/audit-events", A, lambda_context, query={"limit": "2", "cursor": first["next_cursor"]}
    )
    assert len(second["items"]) == 2
    status, _ = get("/api/v1/audit-events", B, lambda_context, query={"cursor": first["next_cursor"]})
    assert status == 400


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "1000"}, {"limit": "many"}])
def test_bad_paging_parameters_are_a_422(safety_env: str, lambda_context: Any, query: dict[str, str]) -> None:
    assert get("/api/v1/audit-events", A, lambda_context, query=query)[0] == 422


def test_reading_the_log_needs_the_audit_permission(safety_env: str, lambda_context: Any) -> None:
    nobody = TenantContext(tenant_id="ws_aaaaaaaaaa", user_id="usr_c")
    assert get("/api/v1/audit-events", nobody, lambda_context)[0] == 403


def test_sensitive_event_fields_are_masked_in_the_audit_log(safety_env: str, lambda_context: Any) -> None:
    """A reset link in `email.requested` must not be readable by every workspace admin."""
    from ninefold_core.events.schemas.identity import EmailRequested

    data = EmailRequested(
        to="owner@example.com",
        template="reset-password",
        variables={"link": "https://console.test/app/reset-password#token=nf_r_secret"},
        idempotency_key="k1",
    )
    detail = new_envelope(data, A).to_detail()
    audit_consumer.handler(sqs_event([eventbridge_body(detail)]), lambda_context)

    status, entry = get(f"/api/v1/audit-events/{detail['metadata']['id']}", A, lambda_context)
    assert status == 200
    assert entry["data"]["variables"] == {"link": "[redacted]"}
    assert entry["data"]["to"] == "owner@example.com"
    assert "nf_r_secret" not in json.dumps(entry)
