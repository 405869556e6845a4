"""Multi-step workflows: declared Step Functions state machines whose Task states run declared jobs.

A workflow is `statemachines/workflows/<name>.asl.json` (JSONPath ASL), deployed as one STANDARD
state machine by the workflows stack, which hands the API the catalogue (`WORKFLOWS`, JSON:
name -> state machine ARN, description, steps). Every Task state invokes the step Lambda with
`{tenant_id, execution_id, step, job, retry_count, payload}`; the last states invoke it with
`finish` to record the run's end. docs/workflows.md#multi-step-workflows-step-functions.

Two stores and no distributed transaction, ordered to fail safe:
* start: row `queued` -> StartExecution (named `<tenant>--<execution_id>`) -> row `running` with
  `workflow_run.started`. A failed StartExecution marks the row `failed` (with its event): nothing
  is left `queued`/`running` without an execution.
* the step Lambda records each attempt of each step and the run's end (with its event);
* reads refresh a non-terminal row from DescribeExecution (an execution that ended without the
  final state running, e.g. stopped outside the API or a recording step that failed);
* cancel: StopExecution -> row `cancelled` with its event.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from functions.workflows.dal.workflow_runs import WorkflowRunStore
from functions.workflows.models.workflow_runs import (
    TERMINAL,
    StepEvent,
    Workflow,
    WorkflowList,
    WorkflowRun,
    WorkflowRunPage,
    WorkflowRunRequest,
    WorkflowStep,
    WorkflowStepInfo,
)
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import ConfigurationError, Conflict, InvalidInput, NotFound, ServiceUnavailable
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.workflows import (
    WorkflowRunCancelled,
    WorkflowRunFailed,
    WorkflowRunStarted,
    WorkflowRunSucceeded,
)
from ninefold_core.jobs import JobSpec, RunInfo
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

EXECUTION_ID_PATTERN: Final = r"^wfr_[0-9a-f]{24}$"
# Step Functions: an execution name is 1-80 characters of [0-9A-Za-z_-]; its input at most 256 KiB.
_NAME_OK = re.compile(r"^[0-9A-Za-z_-]{1,80}$")
MAX_INPUT_CHARS: Final = 32 * 1024
_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# DescribeExecution status -> ours.
_SFN_ENDED: Final = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "failed", "ABORTED": "cancelled"}


def new_execution_id() -> str:
    return f"wfr_{uuid.uuid4().hex[:24]}"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


def execution_name(tenant_id: str, execution_id: str) -> str:
    """`<tenant>--<execution_id>` (a hash of the tenant if that does not fit Step Functions' 80 characters)."""
    name = f"{tenant_id}--{execution_id}"
    if _NAME_OK.match(name):
        return name
    return f"t{hashlib.sha256(tenant_id.encode()).hexdigest()[:24]}--{execution_id}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    """`arn:aws:states:<region>:<account>:stateMachine:<machine>` -> that machine's execution `name`."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    workflow: Workflow
    state_machine_arn: str


def catalogue(raw: str) -> dict[str, Declared]:
    """The `WORKFLOWS` environment variable: `{name: {"arn", "description", "steps": [...]}}`."""
    try:
        parsed = json.loads(raw or "{}")
        return {
            name: Declared(
                workflow=Workflow(
                    name=name,
                    description=str(entry.get("description", "")),
                    steps=[WorkflowStepInfo.model_validate(s) for s in entry["steps"]],
                ),
                state_machine_arn=str(entry["arn"]),
            )
            for name, entry in parsed.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"WORKFLOWS is not a valid workflow catalogue: {exc}") from None


def steps_of(definition: Mapping[str, Any]) -> list[WorkflowStepInfo]:
    """The job steps of an ASL definition: Task states whose Payload names a `job`, in state order."""
    found = []
    for name, state in (definition.get("States") or {}).items():
        payload = ((state.get("Parameters") or {}).get("Payload")) or {}
        if state.get("Type") == "Task" and "job" in payload:
            found.append(WorkflowStepInfo(step=name, job=payload["job"], payload_path=payload.get("payload.$", "$")))
    return found


def declared(workflows: Mapping[str, Declared]) -> WorkflowList:
    return WorkflowList(workflows=[d.workflow for _, d in sorted(workflows.items())])


def at_path(document: Any, path: str) -> Any:
    """`$.a.b` of `document` (the only JSONPath the definitions use for payloads); None when absent."""
    if not _PATH.match(path):
        raise ValueError(f"unsupported payload path {path!r}")
    value = document
    for part in path.split(".")[1:]:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


# --- API use cases -----------------------------------------------------------------------------


def _view(row: Mapping[str, Any], steps: list[dict[str, Any]] | None = None) -> WorkflowRun:
    fields = {k: v for k, v in row.items() if k in WorkflowRun.model_fields and k != "steps"}
    ordered = sorted(steps or [], key=lambda s: str(s.get("started_at", "")))
    return WorkflowRun.model_validate(
        {**fields, "steps": [WorkflowStep.model_validate({k: v for k, v in s.items()}) for s in ordered]}
    )


def _spec(jobs: Mapping[str, JobSpec[Any]], name: str) -> JobSpec[Any]:
    spec = jobs.get(name)
    if spec is None:
        raise ConfigurationError(f"workflow step names job {name!r}, which is not declared")
    return spec


def start(
    request: WorkflowRunRequest,
    ctx: TenantContext,
    *,
    store: WorkflowRunStore,
    workflows: Mapping[str, Declared],
    jobs: Mapping[str, JobSpec[Any]],
    sfn: Any,
    now: float | None = None,
) -> WorkflowRun:
    at = time.time() if now is None else now
    chosen = workflows.get(request.workflow)
    if chosen is None:
        raise InvalidInput(f"There is no workflow named {request.workflow!r}.")
    if len(json.dumps(request.input)) > MAX_INPUT_CHARS:
        raise InvalidInput(f"The input is too large (at most {MAX_INPUT_CHARS} characters of JSON).")
    for info in chosen.workflow.steps:
        spec = _spec(jobs, info.job)
        try:
            spec.payload.model_validate(at_path({"input": request.input}, info.payload_path))
        except ValidationError as exc:
            raise InvalidInput(
                f"The input does not fit step {info.step!r} ({info.job}): {exc.error_count()} problem(s)."
            ) from None
    execution_id = new_execution_id()
    name = execution_name(ctx.tenant_id, execution_id)
    row: dict[str, Any] = {
        "execution_id": execution_id,
        "workflow": request.workflow,
        "status": "queued",
        "input": request.input,
        "execution_arn": execution_arn(chosen.state_machine_arn, name),
        "created_at": iso(at),
        "updated_at": iso(at),
        "created_by": ctx.user_id,
    }
    store.create(row)
    try:
        sfn.start_execution(
            stateMachineArn=chosen.state_machine_arn,
            name=name,
            input=json.dumps({"tenant_id": ctx.tenant_id, "execution_id": execution_id, "input": request.input}),
        )
    except Exception as exc:
        logger.exception("StartExecution failed", extra={"execution_id": execution_id})
        error = {"error": "StartExecutionFailed", "cause": type(exc).__name__}
        failed = WorkflowRunFailed(execution_id=execution_id, workflow=request.workflow, error=error["error"])
        store.transition(
            execution_id,
            {"status": "failed", "error": error, "updated_at": iso(at), "finished_at": iso(at)},
            seen="queued",
            event=new_envelope(failed, ctx),
        )
        raise ServiceUnavailable("The workflow could not be started; try again.") from None
    mark_running(store, row, ctx, now=at)
    return get(execution_id, store, sfn=None)


def mark_running(store: WorkflowRunStore, row: Mapping[str, Any], ctx: TenantContext, *, now: float) -> None:
    """queued -> running with `workflow_run.started`, once (the API and the first step race for it)."""
    if row.get("status") != "queued":
        return
    started = WorkflowRunStarted(
        execution_id=row["execution_id"], workflow=row["workflow"], started_by=row["created_by"]
    )
    with contextlib.suppress(ConditionFailed):  # the other writer got there first
        store.transition(
            row["execution_id"],
            {"status": "running", "updated_at": iso(now)},
            seen="queued",
            event=new_envelope(started, ctx),
        )


def _end(
    store: WorkflowRunStore,
    row: Mapping[str, Any],
    ctx: TenantContext,
    status: str,
    *,
    now: float,
    error: dict[str, str] | None = None,
    step: str | None = None,
) -> bool:
    """A non-terminal run -> `status` with its event; False when it had ended or changed meanwhile."""
    seen = str(row["status"])
    if seen in TERMINAL:
        return False
    execution_id, workflow = row["execution_id"], row["workflow"]
    data: Any
    if status == "succeeded":
        data = WorkflowRunSucceeded(execution_id=execution_id, workflow=workflow)
    elif status == "cancelled":
        data = WorkflowRunCancelled(execution_id=execution_id, workflow=workflow, cancelled_by=ctx.user_id)
    else:
        data = WorkflowRunFailed(
            execution_id=execution_id, workflow=workflow, error=(error or {}).get("error", "Failed"), step=step
        )
    changes: dict[str, Any] = {"status": status, "updated_at": iso(now), "finished_at": iso(now)}
    if error is not None:
        changes["error"] = error
    try:
        store.transition(execution_id, changes, seen=seen, event=new_envelope(data, ctx))
    except ConditionFailed:
        return False
    return True


def page(store: WorkflowRunStore, *, limit: int, cursor: str | None) -> WorkflowRunPage:
    found = store.page(limit=limit, cursor=cursor)
    return WorkflowRunPage(items=[_view(row) for row in found.items], cursor=found.cursor)


def _refresh(store: WorkflowRunStore, row: dict[str, Any], ctx: TenantContext, sfn: Any) -> bool:
    """Fold an execution that ended without our final state into the row; True if it changed."""
    try:
        described = sfn.describe_execution(executionArn=row["execution_arn"])
    except Exception:
        logger.warning("DescribeExecution failed", extra={"execution_id": row["execution_id"]}, exc_info=True)
        return False
    ended = _SFN_ENDED.get(str(described.get("status")))
    if ended is None:
        return False
    error = None
    if ended == "failed":
        error = {"error": str(described.get("error") or "ExecutionFailed"), "cause": str(described.get("cause") or "")}
    return _end(store, row, ctx, ended, now=time.time(), error=error)


def get(execution_id: str, store: WorkflowRunStore, *, sfn: Any, ctx: TenantContext | None = None) -> WorkflowRun:
    row = store.get(execution_id)
    if row is None:
        raise NotFound("There is no such workflow run.")
    if sfn is not None and ctx is not None and row["status"] not in TERMINAL and _refresh(store, row, ctx, sfn):
        row = store.get(execution_id) or row
    return _view(row, store.steps(execution_id))


def cancel(execution_id: str, store: WorkflowRunStore, ctx: TenantContext, *, sfn: Any) -> WorkflowRun:
    row = store.get(execution_id)
    if row is None:
        raise NotFound("There is no such workflow run.")
    if row["status"] in TERMINAL:
        raise Conflict(f"The workflow run is already {row['status']}.")
    try:
        sfn.stop_execution(executionArn=row["execution_arn"], cause=f"cancelled by {ctx.user_id}")
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code != "ExecutionDoesNotExist":
            logger.exception("StopExecution failed", extra={"execution_id": execution_id})
            raise ServiceUnavailable("The workflow run could not be cancelled; try again.") from None
    if not _end(store, row, ctx, "cancelled", now=time.time()):
        # It ended meanwhile: answer what it became.
        return get(execution_id, store, sfn=None)
    return get(execution_id, store, sfn=None)


# --- the step Lambda ---------------------------------------------------------------------------


class InvalidStepPayload(Exception):
    """The step's payload does not fit its job's model (not retried: the Task's first Retry rule)."""


class UnknownJob(Exception):
    """The Task names a job that is not declared (not retried)."""


class UnknownRun(Exception):
    """No execution row for this tenant and execution id."""


class RunNotActive(Exception):
    """The run already ended (cancelled, failed): its steps do not run."""


def _error_class(name: str) -> type[Exception]:
    """An exception whose class name is `name` (Step Functions matches Retry/Catch on it)."""
    safe = name if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) else "StepFailed"
    return type(safe, (Exception,), {})


def _ended_before(existing: Mapping[str, Any], attempt: int, step: str) -> bool:
    """True when this attempt already succeeded (redelivered); raises what it recorded when it
    failed, or when a later attempt exists. False: run the attempt."""
    recorded = int(existing["attempt"])
    if recorded > attempt:
        raise RunNotActive(f"attempt {attempt} of {step} is older than the recorded one")
    if recorded < attempt or existing["status"] == "running":
        return False  # a new attempt, or one whose invocation crashed: run it (once more)
    if existing["status"] == "succeeded":
        return True
    error = existing.get("error") or {}
    raise _error_class(str(error.get("error", "StepFailed")))(str(error.get("cause", "")))


def run_step(
    event: StepEvent,
    ctx: TenantContext,
    *,
    store: WorkflowRunStore,
    jobs: Mapping[str, JobSpec[Any]],
    clock: Callable[[], float] = time.time,
) -> Any:
    """Run one attempt of one step: record it running, run the job, record the outcome. Raises on
    failure (the exception's class name is the Task's error). A redelivered attempt that already
    ended returns (or raises) what it recorded, without running the job again."""
    if event.finish is not None:
        return finish(event, ctx, store=store, clock=clock)
    row = store.get(event.execution_id)
    if row is None:
        raise UnknownRun(f"no workflow run {event.execution_id}")
    if row["status"] in TERMINAL:
        raise RunNotActive(f"the run is {row['status']}")
    attempt = (event.retry_count or 0) + 1
    existing = store.step(event.execution_id, event.step)
    if existing is not None and _ended_before(existing, attempt, event.step):
        return existing.get("output")
    started = clock()
    log = [dict(a) for a in (existing or {}).get("attempts", []) if int(a.get("attempt", 0)) != attempt]
    log.append({"attempt": attempt, "started_at": iso(started)})
    item: dict[str, Any] = {
        "step": event.step,
        "job": event.job,
        "status": "running",
        "attempt": attempt,
        "started_at": (existing or {}).get("started_at") or iso(started),
        "attempts": log,
    }
    seen = None if existing is None else int(existing["attempt"])
    try:
        store.put_step(event.execution_id, event.step, item, seen_attempt=seen)
    except ConditionFailed:
        raise _error_class("StepRaced")("another invocation recorded this step meanwhile") from None
    mark_running(store, row, ctx, now=started)

    def record(status: str, *, output: Any = None, error: dict[str, str] | None = None) -> None:
        ended = clock()
        log[-1] = {**log[-1], "finished_at": iso(ended), **({"error": error} if error else {})}
        changes: dict[str, Any] = {"status": status, "finished_at": iso(ended), "attempts": log}
        if error is not None:
            changes["error"] = error
        else:
            changes["output"] = output
        store.put_step(event.execution_id, event.step, changes, seen_attempt=attempt)

    spec = jobs.get(event.job or "")
    if spec is None:
        record("failed", error={"error": "UnknownJob", "cause": f"job {event.job!r} is not declared"})
        raise UnknownJob(f"job {event.job!r} is not declared")
    try:
        payload = spec.payload.model_validate(event.payload)
    except ValidationError as exc:
        cause = f"the payload does not fit {spec.name}: {exc.error_count()} problem(s)"
        record("failed", error={"error": "InvalidStepPayload", "cause": cause})
        raise InvalidStepPayload(cause) from None
    try:
        output = spec.fn(payload, RunInfo(run_id=event.execution_id, attempt=attempt, ctx=ctx))
    except Exception as exc:
        record("failed", error={"error": type(exc).__name__, "cause": str(exc)[:1000]})
        raise
    output = json.loads(json.dumps(output, default=str)) if output is not None else None
    record("succeeded", output=output)
    return output


def finish(
    event: StepEvent, ctx: TenantContext, *, store: WorkflowRunStore, clock: Callable[[], float] = time.time
) -> dict[str, str]:
    """The final states: the run succeeded, or failed with the Catch's `{Error, Cause}`."""
    row = store.get(event.execution_id)
    if row is None:
        raise UnknownRun(f"no workflow run {event.execution_id}")
    if event.finish == "succeeded":
        _end(store, row, ctx, "succeeded", now=clock())
        return {"status": "succeeded"}
    caught = event.error or {}
    error = {"error": str(caught.get("Error") or "StepFailed"), "cause": str(caught.get("Cause") or "")[:1000]}
    failed_step = next((s["step"] for s in store.steps(event.execution_id) if s.get("status") == "failed"), None)
    _end(store, row, ctx, "failed", now=clock(), error=error, step=failed_step)
    return {"status": "failed"}
