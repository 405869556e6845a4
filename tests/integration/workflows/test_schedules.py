"""Schedules end to end in the local cloud: POST /api/v1/schedules → an EventBridge Scheduler schedule
→ (warp clock) firings on the jobs queue → WorkflowsWorker → one run per firing."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.cloud import SignedInUser, requires_system

pytestmark = requires_system("workflows")

HOUR = 3600
DAY = 24 * HOUR
PARIS = ZoneInfo("Europe/Paris")


def advance(cloud: Any, seconds: float) -> None:
    cloud.clock.advance(seconds)
    # Days of warp also fire every platform job on a clock (identity's hourly usage report: 24 runs a day).
    cloud.settle(timeout=60 + seconds / 3600 * 2)


def runs_of(user: SignedInUser, schedule_id: str) -> list[dict[str, Any]]:
    reply = user.api.get("/api/v1/runs?job=workflows.echo&limit=100")
    assert reply.status == 200, reply.text
    return [r for r in reply.json["items"] if r.get("enqueued_by") == f"schedule:{schedule_id}"]


@pytest.fixture
def made(tenant_a: SignedInUser) -> Iterator[list[str]]:
    """Schedules a test created; deleted afterwards so they do not fire during other tests."""
    created: list[str] = []
    yield created
    for schedule_id in created:
        tenant_a.api.delete(f"/api/v1/schedules/{schedule_id}")


def schedule(user: SignedInUser, made: list[str], **body: Any) -> dict[str, Any]:
    request = {"job": "workflows.echo", "payload": {"message": f"tick {uuid.uuid4().hex[:8]}"}, **body}
    reply = user.api.post("/api/v1/schedules", request)
    assert reply.status == 201, reply.text
    created: dict[str, Any] = reply.json
    made.append(created["schedule_id"])
    return created


def test_an_hourly_rate_makes_one_run_per_hour(cloud: Any, tenant_a: SignedInUser, made: list[str]) -> None:
    created = schedule(tenant_a, made, rate="rate(1 hour)")
    assert (created["status"], created["expression"], created["timezone"]) == ("active", "rate(1 hour)", "UTC")
    assert len(created["next_runs"]) == 3
    advance(cloud, 3 * HOUR + 60)
    fired = runs_of(tenant_a, created["schedule_id"])
    assert len(fired) == 3, fired
    assert {r["status"] for r in fired} == {"succeeded"}
    assert len({r["run_id"] for r in fired}) == 3  # a fresh run per firing
    times = sorted(dt.datetime.fromisoformat(r["created_at"]) for r in fired)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [HOUR, HOUR]


def test_a_daily_cron_fires_at_nine_in_its_time_zone(cloud: Any, tenant_a: SignedInUser, made: list[str]) -> None:
    created = schedule(tenant_a, made, cron="0 9 * * ? *", timezone="Europe/Paris")
    assert created["cron"] == "cron(0 9 * * ? *)"
    for upcoming in created["next_runs"]:
        local = dt.datetime.fromisoformat(upcoming)
        assert (local.hour, local.minute) == (9, 0)
        assert local.utcoffset() == local.astimezone(PARIS).utcoffset()
    advance(cloud, 2 * DAY)
    fired = runs_of(tenant_a, created["schedule_id"])
    assert len(fired) == 2, fired
    for run in fired:
        at = dt.datetime.fromisoformat(run["created_at"])
        local = at.astimezone(PARIS)
        assert (local.hour, local.minute, local.second) == (9, 0, 0), run["created_at"]
        # 09:00 in Paris is 08:00 UTC in winter (CET) and 07:00 UTC in summer (CEST).
        offset_hours = int((local.utcoffset() or dt.timedelta()).total_seconds() // 3600)
        assert at.astimezone(dt.UTC).hour == 9 - offset_hours
        assert run["status"] == "succeeded"


def test_disabling_stops_firings_and_deleting_removes_the_schedule(
    cloud: Any, tenant_a: SignedInUser, made: list[str]
) -> None:
    created = schedule(tenant_a, made, rate="1 hour")
    schedule_id = created["schedule_id"]
    advance(cloud, HOUR + 60)
    assert len(runs_of(tenant_a, schedule_id)) == 1

    disabled = tenant_a.api.patch(f"/api/v1/schedules/{schedule_id}", {"enabled": False})
    assert disabled.status == 200, disabled.text
    assert (disabled.json["enabled"], disabled.json["next_runs"]) == (False, [])
    advance(cloud, 3 * HOUR)
    assert len(runs_of(tenant_a, schedule_id)) == 1

    enabled = tenant_a.api.patch(f"/api/v1/schedules/{schedule_id}", {"enabled": True})
    assert enabled.status == 200, enabled.text
    advance(cloud, HOUR + 60)
    assert len(runs_of(tenant_a, schedule_id)) == 2

    assert tenant_a.api.delete(f"/api/v1/schedules/{schedule_id}").status == 204
    assert tenant_a.api.get(f"/api/v1/schedules/{schedule_id}").status == 404
    listed = tenant_a.api.get("/api/v1/schedules?limit=100").json["items"]
    assert schedule_id not in [s["schedule_id"] for s in listed]
    names = [s["Name"] for s in cloud.client("scheduler").list_schedules()["Schedules"]]
    assert not [n for n in names if schedule_id in n]
    advance(cloud, 2 * HOUR)
    assert len(runs_of(tenant_a, schedule_id)) == 2


def problem(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body.get(k) for k in ("type", "title", "status", "detail")}


def test_bad_schedules_are_422_problems(tenant_a: SignedInUser) -> None:
    for body in (
        {"job": "workflows.echo", "payload": {"message": "x"}, "cron": "0 9 * * *"},
        {"job": "workflows.echo", "payload": {"message": "x"}, "rate": "30 seconds"},
        {"job": "workflows.echo", "payload": {"message": "x"}, "rate": "1 hour", "timezone": "Paris"},
        {"job": "workflows.echo", "payload": {"message": "x"}, "rate": "1 hour", "cron": "0 9 * * ? *"},
        {"job": "workflows.nope", "payload": {}, "rate": "1 hour"},
    ):
        reply = tenant_a.api.post("/api/v1/schedules", body)
        assert reply.status == 422, (body, reply.status, reply.text)
        headers = {k.lower(): v for k, v in reply.headers.items()}
        assert headers.get("content-type", "").startswith("application/problem+json")


def test_another_tenant_cannot_see_change_or_delete_a_schedule(
    tenant_a: SignedInUser, tenant_b: SignedInUser, made: list[str]
) -> None:
    created = schedule(tenant_a, made, rate="1 hour")
    path = f"/api/v1/schedules/{created['schedule_id']}"
    missing = f"/api/v1/schedules/sch_{'0' * 24}"
    for reply, control in (
        (tenant_b.api.get(path), tenant_b.api.get(missing)),
        (tenant_b.api.patch(path, {"enabled": False}), tenant_b.api.patch(missing, {"enabled": False})),
        (tenant_b.api.delete(path), tenant_b.api.delete(missing)),
    ):
        assert reply.status == control.status == 404
        assert problem(reply.json) == problem(control.json)
    assert created["schedule_id"] not in [s["schedule_id"] for s in tenant_b.api.get("/api/v1/schedules").json["items"]]
    still = tenant_a.api.get(path)
    assert (still.status, still.json["enabled"]) == (200, True)
