"""`GET /api/v1/runs?status=&job=` served from the filter indexes, and the operators' view
`GET /api/v1/admin/runs` (platform:operate only; a workspace owner's `*` gets 403)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.workflows.test_runs_slice import BACKOFF
from tests.support.cloud import SignedInUser, _sign_in, requires_system

pytestmark = requires_system("workflows")


def fresh(cloud: Any, name: str) -> SignedInUser:
    return _sign_in(cloud, name, f"usr_{name.lower()}_{uuid.uuid4().hex[:8]}")


def start(user: SignedInUser, job: str, payload: dict[str, Any]) -> str:
    reply = user.api.post("/api/v1/runs", {"job": job, "payload": payload})
    assert reply.status == 202, reply.text
    run_id: str = reply.json["run_id"]
    return run_id


def listed(user: SignedInUser, query: str) -> list[str]:
    reply = user.api.get(f"/api/v1/runs?{query}")
    assert reply.status == 200, reply.text
    return [r["run_id"] for r in reply.json["items"]]


def test_status_and_job_filters_and_paging(cloud: Any) -> None:
    user = fresh(cloud, "Filters")
    ok = [start(user, "workflows.echo", {"message": f"ok{i}"}) for i in range(3)]
    slept = start(user, "workflows.sleep", {})
    doomed = start(user, "workflows.echo", {"message": "doomed", "fail_times": 10})
    cloud.wait_idle(timeout=60)
    # Let the doomed run use up its attempts (a backoff each); this test is about the filters, so
    # it waits for the outcome rather than counting on a number of cycles on a loaded machine.
    for _ in range(8):
        cloud.clock.advance(BACKOFF)
        cloud.settle(timeout=60)
        if user.api.get(f"/api/v1/runs/{doomed}").json["status"] == "failed":
            break

    assert listed(user, "status=failed") == [doomed]
    assert set(listed(user, "status=succeeded")) == {*ok, slept}
    assert listed(user, "job=workflows.sleep") == [slept]
    assert set(listed(user, "status=succeeded&job=workflows.echo")) == set(ok)
    assert listed(user, "status=failed&job=workflows.sleep") == []

    first = user.api.get("/api/v1/runs?status=succeeded&job=workflows.echo&limit=2")
    assert len(first.json["items"]) == 2
    assert first.json["cursor"]
    rest = user.api.get(f"/api/v1/runs?status=succeeded&job=workflows.echo&cursor={first.json['cursor']}")
    assert {r["run_id"] for r in first.json["items"] + rest.json["items"]} == set(ok)
    other = user.api.get(f"/api/v1/runs?status=failed&cursor={first.json['cursor']}")
    assert other.status == 400  # a cursor continues only its own filter
    assert user.api.get("/api/v1/runs?status=nope").status in (400, 422)


def test_the_operators_view_is_forbidden_to_a_workspace_owner(cloud: Any, tenant_a: SignedInUser) -> None:
    reply = tenant_a.api.get("/api/v1/admin/runs")
    assert reply.status == 403, reply.text
    assert reply.json["missing_permissions"] == ["platform:operate"]
