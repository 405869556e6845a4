"""Multi-step workflows: the ASL definitions in statemachines/workflows/, the step Lambda's
recording (and raising) of each attempt, and the API use cases against moto's DynamoDB with a
fake Step Functions client (the real interpreter runs in tests/integration/workflows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from functions.workflows import jobs as _declared  # noqa: F401  (registers the jobs in JOBS)
from functions.workflows.dal.workflow_runs import WorkflowRunStore
from functions.workflows.jobs.echo import EchoFailure
from functions.workflows.logic import workflow_runs
from functions.workflows.logic.workflow_runs import Declared, InvalidStepPayload
from functions.workflows.models.workflow_runs import StepEvent, WorkflowRunRequest
from ninefold_core import aws
from ninefold_core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from ninefold_core.jobs import JOBS, JobSpec, RetryPolicy, RunInfo
from ninefold_core.tenant import TenantContext

ROOT = Path(__file__).resolve().parents[3]
DEFINITIONS = sorted((ROOT / "statemachines" / "workflows").glob("*.asl.json"))
A = TenantContext(tenant_id="ws_aaaaaaaaaaaaaaaaaaaa", user_id="usr_alice", permissions=frozenset({"*"}))
B = TenantContext(tenant_id="ws_bbbbbbbbbbbbbbbbbbbb", user_id="usr_bob", permissions=frozenset({"*"}))
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Ninefold-Workflows-Onboarding"


def definition(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


# --- the definitions ---------------------------------------------------------------------------


def test_there_is_at_least_the_demo_workflow() -> None:
    assert "onboarding.asl.json" in [p.name for p in DEFINITIONS]


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.name)
def test_a_definition_is_jsonpath_asl_whose_tasks_run_declared_jobs(path: Path) -> None:
    asl = definition(path)
    states = asl["States"]
    assert asl["StartAt"] in states
    assert "QueryLanguage" not in asl  # JSONPath only (no JSONata: the local interpreter lacks it)
    for name, state in states.items():
        for target in [state.get("Next"), *(c["Next"] for c in state.get("Catch", []))]:
            assert target is None or target in states, f"{name} -> {target}"
        assert state.get("Type") != "Task" or state["Resource"] == "arn:aws:states:::lambda:invoke", name
    steps = workflow_runs.steps_of(asl)
    assert steps, "a workflow has at least one job step"
    for info in steps:
        state = states[info.step]
        payload = state["Parameters"]["Payload"]
        assert state["Parameters"]["FunctionName"] == "${StepFunctionArn}"
        assert payload["step"] == info.step
        assert payload["tenant_id.$"] == "$.tenant_id"
        assert payload["execution_id.$"] == "$.execution_id"
        assert payload["retry_count.$"] == "$$.State.RetryCount"
        workflow_runs.at_path({}, info.payload_path)  # a dotted path the API can validate input at
        assert info.job in JOBS, f"{info.step} runs {info.job}, which is not declared"
        # The step's result is added under $.steps: the input (tenant, execution, input) is kept.
        assert state["ResultPath"].startswith("$.steps.")
        policy = JOBS[info.job].retry
        *no_retry, retry = state["Retry"]
        assert [r["MaxAttempts"] for r in no_retry] == [0] * len(no_retry)
        assert retry == {
            "ErrorEquals": ["States.ALL"],
            "MaxAttempts": policy.max_attempts - 1,
            "IntervalSeconds": max(1, round(policy.base_delay)),
            "BackoffRate": 2.0,
            "MaxDelaySeconds": round(policy.max_delay),
            **({"JitterStrategy": "FULL"} if policy.jitter else {}),
        }
        (catch,) = state["Catch"]
        recorder = states[catch["Next"]]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert catch["ResultPath"] == "$.error"
        assert recorder["Parameters"]["Payload"]["finish"] == "failed"
    finishes = [s["Parameters"]["Payload"].get("finish") for s in states.values() if s.get("Type") == "Task"]
    assert {"succeeded", "failed"} <= set(finishes)


# --- the step Lambda ---------------------------------------------------------------------------


class Probe(BaseModel):
    message: str


@pytest.fixture
def counting() -> dict[str, Any]:
    calls: list[int] = []

    def fn(payload: Probe, run: RunInfo) -> dict[str, Any]:
        calls.append(run.attempt)
        return {"echo": payload.message, "attempt": run.attempt}

    spec = JobSpec(name="tests.count", payload=Probe, fn=fn, retry=RetryPolicy(max_attempts=3))
    return {"jobs": {**JOBS, "tests.count": spec}, "calls": calls}


def queued(store: WorkflowRunStore, execution_id: str = "wfr_" + "1" * 24) -> dict[str, Any]:
    return store.create(
        {
            "execution_id": execution_id,
            "workflow": "workflows.onboarding",
            "status": "queued",
            "input": {"message": "hi"},
            "execution_arn": workflow_runs.execution_arn(MACHINE, f"{A.tenant_id}--{execution_id}"),
            "created_at": "2026-12-02T10:00:00.000+00:00",
            "updated_at": "2026-12-02T10:00:00.000+00:00",
            "created_by": A.user_id,
        }
    )


def step(job: str, payload: Any, retry_count: int | None = 0, name: str = "Welcome") -> StepEvent:
    return StepEvent(
        tenant_id=A.tenant_id,
        execution_id="wfr_" + "1" * 24,
        step=name,
        job=job,
        payload=payload,
        retry_count=retry_count,
    )


def outbox(table: str) -> list[str]:
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(i["event_type"]["S"] for i in items if i.get("kind", {}).get("S") == "outbox")


def test_a_step_is_recorded_and_its_run_starts(table: str, counting: dict[str, Any]) -> None:
    store = WorkflowRunStore(table, A)
    queued(store)
    output = workflow_runs.run_step(step("tests.count", {"message": "hi"}), A, store=store, jobs=counting["jobs"])
    assert output == {"echo": "hi", "attempt": 1}
    (recorded,) = store.steps("wfr_" + "1" * 24)
    assert (recorded["status"], recorded["attempt"], recorded["output"]) == ("succeeded", 1, output)
    assert recorded["attempts"][0]["finished_at"]
    assert store.get("wfr_" + "1" * 24)["status"] == "running"  # type: ignore[index]
    assert outbox(table) == ["workflow_run.started"]


def test_a_redelivered_attempt_is_not_run_or_recorded_twice(table: str, counting: dict[str, Any]) -> None:
    store = WorkflowRunStore(table, A)
    queued(store)
    event = step("tests.count", {"message": "hi"}, retry_count=1)
    first = workflow_runs.run_step(event, A, store=store, jobs=counting["jobs"])
    again = workflow_runs.run_step(event, A, store=store, jobs=counting["jobs"])
    assert first == again == {"echo": "hi", "attempt": 2}
    assert counting["calls"] == [2]
    (recorded,) = store.steps("wfr_" + "1" * 24)
    assert [a["attempt"] for a in recorded["attempts"]] == [2]
    assert outbox(table) == ["workflow_run.started"]


def test_a_failing_attempt_is_recorded_and_raised_under_its_class_name(table: str) -> None:
    store = WorkflowRunStore(table, A)
    queued(store)
    for retry_count in (0, 1):
        with pytest.raises(EchoFailure):
            workflow_runs.run_step(
                step("workflows.echo", {"message": "x", "fail_times": 2}, retry_count), A, store=store, jobs=JOBS
            )
    (recorded,) = store.steps("wfr_" + "1" * 24)
    assert (recorded["status"], recorded["attempt"], recorded["error"]["error"]) == ("failed", 2, "EchoFailure")
    assert [a["attempt"] for a in recorded["attempts"]] == [1, 2]
    # Redelivering the failed attempt raises the same error name without running the job again.
    with pytest.raises(Exception, match="attempt 2 failed on purpose") as raised:
        workflow_runs.run_step(step("workflows.echo", {"message": "x", "fail_times": 0}, 1), A, store=store, jobs=JOBS)
    assert type(raised.value).__name__ == "EchoFailure"
    assert workflow_runs.run_step(
        step("workflows.echo", {"message": "x", "fail_times": 2}, 2), A, store=store, jobs=JOBS
    ) == {"echo": "x", "attempt": 3}


def test_an_invalid_payload_is_recorded_and_not_retried(table: str) -> None:
    store = WorkflowRunStore(table, A)
    queued(store)
    with pytest.raises(InvalidStepPayload):
        workflow_runs.run_step(step("workflows.echo", {"nope": 1}), A, store=store, jobs=JOBS)
    (recorded,) = store.steps("wfr_" + "1" * 24)
    assert recorded["error"]["error"] == "InvalidStepPayload"


def test_the_final_states_end_the_run_once_with_their_event(table: str) -> None:
    store = WorkflowRunStore(table, A)
    queued(store)
    end = StepEvent(
        tenant_id=A.tenant_id,
        execution_id="wfr_" + "1" * 24,
        step="RecordFailure",
        finish="failed",
        error={"Error": "EchoFailure", "Cause": '{"errorMessage": "boom"}'},
    )
    workflow_runs.run_step(end, A, store=store, jobs=JOBS)
    workflow_runs.run_step(end, A, store=store, jobs=JOBS)  # a retried final state changes nothing
    run = store.get("wfr_" + "1" * 24)
    assert run is not None
    assert run["status"] == "failed"
    assert run["error"]["error"] == "EchoFailure"
    assert outbox(table) == ["workflow_run.failed"]


# --- the API use cases -------------------------------------------------------------------------


class FakeStepFunctions:
    def __init__(self, *, fail_start: bool = False, status: str = "RUNNING") -> None:
        self.fail_start = fail_start
        self.status = status
        self.started: list[dict[str, Any]] = []
        self.stopped: list[str] = []

    def start_execution(self, **request: Any) -> dict[str, Any]:
        if self.fail_start:
            raise RuntimeError("throttled")
        self.started.append(request)
        return {"executionArn": workflow_runs.execution_arn(request["stateMachineArn"], request["name"])}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        return {"executionArn": executionArn, "status": self.status}

    def stop_execution(self, executionArn: str, cause: str = "") -> dict[str, Any]:
        self.stopped.append(executionArn)
        self.status = "ABORTED"
        return {}


WORKFLOWS = workflow_runs.catalogue(
    json.dumps(
        {
            "workflows.onboarding": {
                "arn": MACHINE,
                "description": "demo",
                "steps": [
                    s.model_dump()
                    for s in workflow_runs.steps_of(definition(ROOT / "statemachines/workflows/onboarding.asl.json"))
                ],
            }
        }
    )
)


def begin(table: str, sfn: FakeStepFunctions, body: dict[str, Any], ctx: TenantContext = A) -> Any:
    return workflow_runs.start(
        WorkflowRunRequest.model_validate(body),
        ctx,
        store=WorkflowRunStore(table, ctx),
        workflows=WORKFLOWS,
        jobs=JOBS,
        sfn=sfn,
    )


def test_the_catalogue_lists_the_workflows_and_their_steps() -> None:
    listed = workflow_runs.declared(WORKFLOWS).workflows
    assert [(w.name, [s.step for s in w.steps]) for w in listed] == [("workflows.onboarding", ["Welcome", "FollowUp"])]
    assert isinstance(WORKFLOWS["workflows.onboarding"], Declared)


def test_start_writes_the_run_then_starts_a_named_execution(table: str) -> None:
    sfn = FakeStepFunctions()
    run = begin(table, sfn, {"workflow": "workflows.onboarding", "input": {"message": "hi"}})
    assert run.status == "running"
    (request,) = sfn.started
    assert request["name"] == f"{A.tenant_id}--{run.execution_id}"
    assert json.loads(request["input"]) == {
        "tenant_id": A.tenant_id,
        "execution_id": run.execution_id,
        "input": {"message": "hi"},
    }
    assert outbox(table) == ["workflow_run.started"]
    page = workflow_runs.page(WorkflowRunStore(table, A), limit=10, cursor=None)
    assert [r.execution_id for r in page.items] == [run.execution_id]
    assert workflow_runs.page(WorkflowRunStore(table, B), limit=10, cursor=None).items == []


@pytest.mark.parametrize(
    "body",
    [
        {"workflow": "workflows.nope", "input": {"message": "hi"}},
        {"workflow": "workflows.onboarding", "input": {"nope": 1}},
        {"workflow": "workflows.onboarding", "input": {"message": "x" * 40000}},
    ],
)
def test_bad_requests_are_refused_before_anything_is_written(table: str, body: dict[str, Any]) -> None:
    sfn = FakeStepFunctions()
    with pytest.raises(InvalidInput):
        begin(table, sfn, body)
    assert sfn.started == []
    assert workflow_runs.page(WorkflowRunStore(table, A), limit=10, cursor=None).items == []


def test_a_failed_start_leaves_a_failed_run_not_a_running_one(table: str) -> None:
    with pytest.raises(ServiceUnavailable):
        begin(
            table, FakeStepFunctions(fail_start=True), {"workflow": "workflows.onboarding", "input": {"message": "x"}}
        )
    (run,) = workflow_runs.page(WorkflowRunStore(table, A), limit=10, cursor=None).items
    assert run.status == "failed"
    assert run.error is not None
    assert run.error.error == "StartExecutionFailed"
    assert outbox(table) == ["workflow_run.failed"]


def test_reading_a_run_folds_in_an_execution_that_ended_elsewhere(table: str) -> None:
    sfn = FakeStepFunctions()
    run = begin(table, sfn, {"workflow": "workflows.onboarding", "input": {"message": "hi"}})
    store = WorkflowRunStore(table, A)
    assert workflow_runs.get(run.execution_id, store, sfn=sfn, ctx=A).status == "running"
    sfn.status = "TIMED_OUT"
    ended = workflow_runs.get(run.execution_id, store, sfn=sfn, ctx=A)
    assert ended.status == "failed"
    assert ended.error is not None


def test_cancel_stops_the_execution(table: str) -> None:
    sfn = FakeStepFunctions()
    run = begin(table, sfn, {"workflow": "workflows.onboarding", "input": {"message": "hi"}})
    store = WorkflowRunStore(table, A)
    cancelled = workflow_runs.cancel(run.execution_id, store, A, sfn=sfn)
    assert cancelled.status == "cancelled"
    assert sfn.stopped == [workflow_runs.execution_arn(MACHINE, f"{A.tenant_id}--{run.execution_id}")]
    assert outbox(table) == ["workflow_run.cancelled", "workflow_run.started"]
    with pytest.raises(Conflict):
        workflow_runs.cancel(run.execution_id, store, A, sfn=sfn)


def test_another_tenants_run_is_missing(table: str) -> None:
    sfn = FakeStepFunctions()
    run = begin(table, sfn, {"workflow": "workflows.onboarding", "input": {"message": "hi"}})
    store_b = WorkflowRunStore(table, B)
    with pytest.raises(NotFound):
        workflow_runs.get(run.execution_id, store_b, sfn=sfn, ctx=B)
    with pytest.raises(NotFound):
        workflow_runs.cancel(run.execution_id, store_b, B, sfn=sfn)
    assert sfn.stopped == []


def test_long_tenant_ids_still_make_valid_execution_names() -> None:
    name = workflow_runs.execution_name("w" * 64, "wfr_" + "0" * 24)
    assert len(name) <= 80
    assert name.endswith("--wfr_" + "0" * 24)
