"""Multi-step workflows end to end in the local cloud: POST /api/v1/workflow-runs → the
`workflows.onboarding` state machine (Step Functions, moto's ASL interpreter) → the WorkflowStep
Lambda per Task state, a Wait held by the warp clock, retries and the failure path."""

from __future__ import annotations

from typing import Any

from tests.support.cloud import SignedInUser, requires_system

pytestmark = requires_system("workflows")

HOUR = 3600
# More than workflows.echo's largest retry interval (IntervalSeconds 2, BackoffRate 2, MaxDelaySeconds 60).
BACKOFF = 61


def start(user: SignedInUser, payload: dict[str, Any]) -> dict[str, Any]:
    reply = user.api.post("/api/v1/workflow-runs", {"workflow": "workflows.onboarding", "input": payload})
    assert reply.status == 202, reply.text
    started: dict[str, Any] = reply.json
    return started


def read(user: SignedInUser, execution_id: str) -> dict[str, Any]:
    reply = user.api.get(f"/api/v1/workflow-runs/{execution_id}")
    assert reply.status == 200, reply.text
    found: dict[str, Any] = reply.json
    return found


def test_the_declared_workflows_are_listed(tenant_a: SignedInUser) -> None:
    reply = tenant_a.api.get("/api/v1/workflows")
    assert reply.status == 200, reply.text
    (onboarding,) = [w for w in reply.json["workflows"] if w["name"] == "workflows.onboarding"]
    assert [(s["step"], s["job"]) for s in onboarding["steps"]] == [
        ("Welcome", "workflows.echo"),
        ("FollowUp", "workflows.echo"),
    ]


def test_a_run_waits_an_hour_between_its_steps_then_succeeds(cloud: Any, tenant_a: SignedInUser) -> None:
    started = start(tenant_a, {"message": "hello"})
    assert started["status"] in ("queued", "running")
    cloud.settle(timeout=30)

    waiting = read(tenant_a, started["execution_id"])
    assert waiting["status"] == "running", waiting
    assert [(s["step"], s["status"]) for s in waiting["steps"]] == [("Welcome", "succeeded")]

    cloud.clock.advance(HOUR)
    cloud.settle(timeout=30)

    done = read(tenant_a, started["execution_id"])
    assert done["status"] == "succeeded", done
    assert [(s["step"], s["status"], s["attempt"]) for s in done["steps"]] == [
        ("Welcome", "succeeded", 1),
        ("FollowUp", "succeeded", 1),
    ]
    assert done["finished_at"]
    listed = tenant_a.api.get("/api/v1/workflow-runs?limit=100")
    assert listed.status == 200, listed.text
    assert started["execution_id"] in [r["execution_id"] for r in listed.json["items"]]


def test_a_step_that_fails_every_attempt_fails_the_run(cloud: Any, tenant_a: SignedInUser) -> None:
    started = start(tenant_a, {"message": "doomed", "fail_times": 3})
    cloud.settle(timeout=30)
    for _ in range(2):  # two retries of the first step, each after its backoff
        cloud.clock.advance(BACKOFF)
        cloud.settle(timeout=30)

    failed = read(tenant_a, started["execution_id"])
    assert failed["status"] == "failed", failed
    assert failed["error"]["error"] == "EchoFailure"
    (welcome,) = failed["steps"]
    assert (welcome["step"], welcome["status"], welcome["attempt"]) == ("Welcome", "failed", 3)
    assert [a["attempt"] for a in welcome["attempts"]] == [1, 2, 3]
    assert welcome["error"]["error"] == "EchoFailure"


def test_a_run_in_its_wait_can_be_cancelled(cloud: Any, tenant_a: SignedInUser) -> None:
    started = start(tenant_a, {"message": "cancel me"})
    cloud.settle(timeout=30)
    reply = tenant_a.api.post(f"/api/v1/workflow-runs/{started['execution_id']}/cancel", {})
    assert reply.status == 200, reply.text
    assert reply.json["status"] == "cancelled"
    cloud.clock.advance(HOUR)
    cloud.settle(timeout=30)
    after = read(tenant_a, started["execution_id"])
    assert after["status"] == "cancelled"
    assert [s["step"] for s in after["steps"]] == ["Welcome"]  # the follow-up never ran
    again = tenant_a.api.post(f"/api/v1/workflow-runs/{started['execution_id']}/cancel", {})
    assert again.status == 409


def test_another_workspace_cannot_read_or_cancel_a_run(
    cloud: Any, tenant_a: SignedInUser, tenant_b: SignedInUser
) -> None:
    started = start(tenant_a, {"message": "private"})
    cloud.settle(timeout=30)
    missing = tenant_b.api.get("/api/v1/workflow-runs/wfr_000000000000000000000000")
    theirs = tenant_b.api.get(f"/api/v1/workflow-runs/{started['execution_id']}")
    assert theirs.status == missing.status == 404

    def problem(reply: Any) -> dict[str, Any]:
        return {k: v for k, v in reply.json.items() if k != "instance"}

    assert problem(theirs) == problem(missing)
    cancel = tenant_b.api.post(f"/api/v1/workflow-runs/{started['execution_id']}/cancel", {})
    assert cancel.status == 404
    listed = tenant_b.api.get("/api/v1/workflow-runs?limit=100")
    assert started["execution_id"] not in [r["execution_id"] for r in listed.json["items"]]
    tenant_a.api.post(f"/api/v1/workflow-runs/{started['execution_id']}/cancel", {})
