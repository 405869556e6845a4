"""Workflows' HTTP API: enqueue a declared job, list and read runs, cancel a queued run."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.workflows import jobs as _declared  # noqa: F401  (registers the jobs in JOBS)
from functions.workflows.config import WorkflowsConfig
from functions.workflows.dal.runs import RunStore
from functions.workflows.logic import runs
from functions.workflows.models.runs import EnqueueRequest, Run, RunPage, RunStatus
from ninefold_core.http import current_config, http_app, http_handler, tenant_context
from ninefold_core.jobs import JOBS, JobMessage, send
from ninefold_core.tenant import require

app = http_app()

RUN_ID = r"^run_[0-9a-f]{32}$"


def _store() -> RunStore:
    return RunStore(current_config(app, WorkflowsConfig).table_name, tenant_context(app))


def _send(message: JobMessage) -> None:
    send(message, queue_url=current_config(app, WorkflowsConfig).job_queue_url)


@app.post("/api/v1/runs", tags=["workflows"], summary="Enqueue a declared job", status_code=202)
def create_run(body: EnqueueRequest) -> Run:
    ctx = tenant_context(app)
    require(ctx, "jobs:run")
    run, _ = runs.submit(body, ctx, store=_store(), jobs=JOBS, send=_send)
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


@app.post("/api/v1/runs/<run_id>/cancel", tags=["workflows"], summary="Cancel a queued run")
def cancel_run(run_id: Annotated[str, Path(pattern=RUN_ID)]) -> Run:
    require(tenant_context(app), "jobs:cancel")
    return runs.cancel(run_id, _store())


handler = http_handler(app, WorkflowsConfig)
