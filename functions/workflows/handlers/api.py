"""Workflows' HTTP API: enqueue a declared job, list and read runs, cancel a queued run;
dead letters: list, replay, operator redrive; operators' cross-tenant view of failed runs."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.workflows import jobs as declared_jobs
from functions.workflows.config import WorkflowsConfig
from functions.workflows.dal.runs import AdminRunStore
from functions.workflows.handlers.routes import schedules as schedule_routes
from functions.workflows.handlers.routes import workflow_runs as workflow_run_routes
from functions.workflows.logic import runs
from functions.workflows.models.runs import (
    AdminRunPage,
    EnqueueRequest,
    JobList,
    RedriveResult,
    Run,
    RunPage,
    RunStatus,
)
from ninefold_core import aws, queues
from ninefold_core.http import current_config, http_app, http_handler, tenant_context
from ninefold_core.jobs import JobMessage, control, send
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import require

# Operators only: a platform role grants it; no workspace role does, not even an owner's `*`.
PLATFORM_OPERATE = "platform:operate"

app = http_app()

RUN_ID = r"^run_[0-9a-f]{32}$"


def _store() -> RunStore:
    return RunStore(current_config(app, WorkflowsConfig).table_name, tenant_context(app))


def _send(message: JobMessage) -> None:
    send(message, queue_url=current_config(app, WorkflowsConfig).job_queue_url)


@app.get("/api/v1/jobs", tags=["workflows"], summary="The declared jobs: what can be enqueued, and how it retries")
def list_jobs() -> JobList:
    require(tenant_context(app), "jobs:read")
    return runs.declared(declared_jobs.own())


@app.post("/api/v1/runs", tags=["workflows"], summary="Enqueue a declared job", status_code=202)
def create_run(body: EnqueueRequest) -> Run:
    ctx = tenant_context(app)
    require(ctx, "jobs:run")
    run, _ = runs.submit(body, ctx, store=_store(), jobs=declared_jobs.own(), send=_send)
    return run


@app.get("/api/v1/runs", tags=["workflows"], summary="The workspace's job runs, newest first")
def list_runs(
    status: Annotated[RunStatus | None, Query()] = None,
    job: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> RunPage:
    require(tenant_context(app), "jobs:read")
    return runs.page(_store(), limit=limit, cursor=cursor, status=status, job=job)


@app.get("/api/v1/runs/<run_id>", tags=["workflows"], summary="One run: attempts, timings, last error")
def get_run(run_id: Annotated[str, Path(pattern=RUN_ID)]) -> Run:
    require(tenant_context(app), "jobs:read")
    return runs.get(run_id, _store())


def _json(status: int, run: Run) -> Response[Run]:
    return Response(status_code=status, body=run, content_type="application/json")


@app.post(
    "/api/v1/runs/<run_id>/cancel",
    tags=["workflows"],
    summary="Cancel a run waiting for its next attempt (202: another system's run, its owner cancels it)",
)
def cancel_run(run_id: Annotated[str, Path(pattern=RUN_ID)]) -> Response[Run]:
    ctx = tenant_context(app)
    require(ctx, "jobs:cancel")
    store = _store()
    found = runs.get(run_id, store)
    if found.system != current_config(app, WorkflowsConfig).system:
        return _json(202, runs.request_cancel(found, store, ctx))
    return _json(200, runs.cancel(run_id, store))


@app.get("/api/v1/dead-letters", tags=["workflows"], summary="The workspace's runs that failed for good")
def list_dead_letters(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> RunPage:
    require(tenant_context(app), "jobs:read")
    return runs.dead_letters(_store(), limit=limit, cursor=cursor)


@app.get("/api/v1/dead-letters/<run_id>", tags=["workflows"], summary="One dead-lettered run")
def get_dead_letter(run_id: Annotated[str, Path(pattern=RUN_ID)]) -> Run:
    require(tenant_context(app), "jobs:read")
    return runs.dead_letter(run_id, _store())


@app.post(
    "/api/v1/runs/<run_id>/replay",
    tags=["workflows"],
    summary="Re-enqueue a failed run, same id and key (202: another system's run, its owner replays it)",
)
def replay_run(run_id: Annotated[str, Path(pattern=RUN_ID)]) -> Response[Run]:
    ctx = tenant_context(app)
    require(ctx, "jobs:run")
    store, config = _store(), current_config(app, WorkflowsConfig)
    found = runs.get(run_id, store)
    if found.system != config.system:
        return _json(202, runs.request_replay(found, store, ctx))
    run, sent = runs.replay(run_id, store, ctx, send=_send)
    if sent and config.job_dlq_url:
        control.remove_dead_letter(config.job_dlq_url, run_id, ctx.tenant_id)
    return _json(200, run)


@app.get("/api/v1/admin/runs", tags=["workflows"], summary="Operators: recent failed runs of every workspace")
def list_failed_runs_across_tenants(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> AdminRunPage:
    require(tenant_context(app), PLATFORM_OPERATE)
    table = current_config(app, WorkflowsConfig).table_name
    return runs.failed_across_tenants(AdminRunStore(table), limit=limit, cursor=cursor)


@app.post("/api/v1/dead-letters/redrive", tags=["workflows"], summary="Operators: move every dead letter back")
def redrive_dead_letters() -> RedriveResult:
    require(tenant_context(app), PLATFORM_OPERATE)
    config = current_config(app, WorkflowsConfig)
    moved = queues.redrive(aws.client("sqs"), dlq_url=config.job_dlq_url, queue_url=config.job_queue_url)
    return RedriveResult(moved=moved)


# Schedules (cron/rate in a time zone, EventBridge Scheduler) live in their own router.
app.include_router(schedule_routes.router)
# Multi-step workflows (Step Functions) too.
app.include_router(workflow_run_routes.router)

handler = http_handler(app, WorkflowsConfig)
