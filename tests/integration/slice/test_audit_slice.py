"""The foundation's vertical slice, end to end in the local cloud:

PATCH /api/v1/workspace (identity) → workspace row + outbox row in one transaction
→ identity table stream → outbox relay → EventBridge bus → rule AuditAllEvents
→ AuditQueue → SafetyAuditConsumer (partial batch failures, idempotent) → safety table
→ GET /api/v1/audit-events.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import WorkspaceRenamed
from ninefold_core.tenant import TenantContext
from scripts.redrive import redrive
from tests.support.cloud import SignedInUser, requires_system

pytestmark = requires_system("safety")

CONSUMER = "Ninefold-Safety/SafetyAuditConsumer"
QUEUE = "Ninefold-Safety/AuditQueue/Resource"
DLQ = "Ninefold-Safety/AuditQueueDeadLetters/Resource"


def audit_ids(user: SignedInUser) -> list[str]:
    reply = user.api.get("/api/v1/audit-events?limit=100")
    assert reply.status == 200, reply.text
    return [item["id"] for item in reply.json["items"]]


def rename(user: SignedInUser, name: str) -> None:
    reply = user.api.patch("/api/v1/workspace", {"name": name})
    assert reply.status == 200, reply.text


def latest_rename(user: SignedInUser, name: str) -> dict[str, Any] | None:
    items = user.api.get("/api/v1/audit-events?limit=100").json["items"]
    return next((i for i in items if i["type"] == "workspace.renamed" and i["data"]["new_name"] == name), None)


def queue_url(cloud: Any, path: str) -> str:
    return str(cloud.resource(path).url)


def drain(cloud: Any, seconds: float = 0) -> None:
    """Let everything run as far as it can; with `seconds`, first jump the clock (visibility timeouts)."""
    if seconds:
        cloud.clock.advance(seconds)
        cloud.settle(timeout=30)
    else:
        cloud.wait_idle(timeout=30)


def test_a_rename_reaches_the_tenants_audit_log_through_the_bus(cloud: Any, tenant_a: SignedInUser) -> None:
    name = f"Renamed {uuid.uuid4().hex[:6]}"
    rename(tenant_a, name)
    drain(cloud)

    entry = latest_rename(tenant_a, name)
    assert entry is not None, "the event never reached the audit log"
    assert entry["actor_id"] == tenant_a.user_id
    assert entry["source"] == "ninefold.identity"
    assert entry["request_id"], "the correlation id of the request travels with the event"


def test_tenant_b_sees_none_of_tenant_as_audit_log(cloud: Any, tenant_a: SignedInUser, tenant_b: SignedInUser) -> None:
    rename(tenant_a, "A private name")
    drain(cloud)
    a_ids = audit_ids(tenant_a)
    assert a_ids
    assert not set(a_ids) & set(audit_ids(tenant_b))
    for event_id in a_ids:
        reply = tenant_b.api.get(f"/api/v1/audit-events/{event_id}")
        assert reply.status == 404
        assert reply.headers["Content-Type"] == "application/problem+json"


def test_requests_without_a_valid_token_never_reach_a_handler(cloud: Any, anonymous: Any) -> None:
    # The authorizer declares no identity source (bearer header or session cookie, ADR 0011), so
    # a request without any credential reaches it and is denied like a forged one: 403.
    assert anonymous.get("/api/v1/audit-events").status == 403
    forged = anonymous.get("/api/v1/audit-events", headers={"Authorization": "Bearer nf_s_forged"})
    assert forged.status == 403


def test_a_poison_message_lands_in_the_dlq_and_good_ones_still_flow(cloud: Any, tenant_a: SignedInUser) -> None:
    sqs = cloud.client("sqs")
    poison = json.dumps({"not": "an envelope", "marker": uuid.uuid4().hex})
    sqs.send_message(QueueUrl=queue_url(cloud, QUEUE), MessageBody=poison)
    good_name = f"Still flowing {uuid.uuid4().hex[:6]}"
    rename(tenant_a, good_name)

    # Each failed receive waits out the queue's visibility timeout; the warp makes it instant.
    for _ in range(4):
        drain(cloud, seconds=200)

    assert latest_rename(tenant_a, good_name) is not None
    dead = sqs.receive_message(QueueUrl=queue_url(cloud, DLQ), MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    assert poison in [m["Body"] for m in dead]
    # Leave the DLQ empty for the next test.
    for message in dead:
        sqs.delete_message(QueueUrl=queue_url(cloud, DLQ), ReceiptHandle=message["ReceiptHandle"])


def test_a_redriven_message_is_processed_exactly_once(cloud: Any, tenant_a: SignedInUser) -> None:
    sqs = cloud.client("sqs")
    ctx = TenantContext(tenant_id=tenant_a.tenant_id, user_id=tenant_a.user_id)
    envelope = new_envelope(WorkspaceRenamed(workspace_id=tenant_a.tenant_id, old_name="x", new_name="redriven"), ctx)
    body = json.dumps(envelope.to_detail())

    # (Start the outage just after five past an hour on the warp clock: its 800 s then end before
    # the next hourly usage report, whose events would otherwise dead-letter alongside this one.)
    cloud.clock.advance((6 * 60 - cloud.clock.now() % 3600) % 3600)
    cloud.settle(timeout=60)
    # Given the consumer is down, the event is retried until it dead-letters.
    cloud.faults.inject(CONSUMER, exc=ConnectionError("table unreachable"))
    try:
        sqs.send_message(QueueUrl=queue_url(cloud, QUEUE), MessageBody=body)
        for _ in range(4):
            drain(cloud, seconds=200)
    finally:
        cloud.faults.clear()
    assert envelope.id not in audit_ids(tenant_a)

    # When it is redriven (twice over, as an at-least-once redrive may do)
    moved = redrive(sqs, dlq_url=queue_url(cloud, DLQ), queue_url=queue_url(cloud, QUEUE))
    assert moved == 1
    sqs.send_message(QueueUrl=queue_url(cloud, QUEUE), MessageBody=body)
    # (The jump also brings back whatever else failed while the consumer was down, e.g. the hourly
    # usage report's events when the warp crossed five past the hour: they are recorded now too.)
    drain(cloud, seconds=200)

    # Then it is recorded once.
    assert audit_ids(tenant_a).count(envelope.id) == 1


def test_the_merged_openapi_document_lists_every_systems_routes(cloud: Any, anonymous: Any) -> None:
    reply = anonymous.get("/api/openapi.json")
    assert reply.status == 200
    document = reply.json
    assert document["openapi"].startswith("3.1")
    assert {"/api/v1/me", "/api/v1/workspace", "/api/v1/audit-events", "/api/v1/audit-events/{event_id}"} <= set(
        document["paths"]
    )


@pytest.mark.parametrize("body", ["{broken", "[]", json.dumps({"name": ""})])
def test_bad_input_through_the_front_door_is_a_problem_not_a_500(cloud: Any, tenant_a: SignedInUser, body: str) -> None:
    reply = tenant_a.api.request("PATCH", "/api/v1/workspace", data=body, headers={"Content-Type": "application/json"})
    assert 400 <= reply.status < 500
    assert reply.headers["Content-Type"] == "application/problem+json"
