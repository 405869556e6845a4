"""Multi-step workflows on Step Functions (docs/workflows.md#multi-step-workflows-step-functions):
the declared workflows, starting, listing, reading and cancelling their runs."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.workflows import jobs as declared_jobs
from functions.workflows.config import WorkflowsConfig
from functions.workflows.dal.workflow_runs import WorkflowRunStore
from functions.workflows.logic import workflow_runs
from functions.workflows.logic.workflow_runs import EXECUTION_ID_PATTERN, Declared
from functions.workflows.models.workflow_runs import WorkflowList, WorkflowRun, WorkflowRunPage, WorkflowRunRequest
from ninefold_core import aws
from ninefold_core.http import current_config, tenant_context
from ninefold_core.tenant import require

router = APIGatewayHttpRouter()
TAGS = ["workflows"]


def _store() -> WorkflowRunStore:
    return WorkflowRunStore(current_config(router, WorkflowsConfig).table_name, tenant_context(router))


def _workflows() -> dict[str, Declared]:
    return workflow_runs.catalogue(current_config(router, WorkflowsConfig).workflows)


@router.get("/api/v1/workflows", tags=TAGS, summary="The declared multi-step workflows and their steps")
def list_workflows() -> WorkflowList:
    require(tenant_context(router), "jobs:read")
    return workflow_runs.declared(_workflows())


@router.post("/api/v1/workflow-runs", tags=TAGS, summary="Start a run of a declared workflow", status_code=202)
def start_workflow_run(body: WorkflowRunRequest) -> WorkflowRun:
    ctx = tenant_context(router)
    require(ctx, "jobs:run")
    return workflow_runs.start(
        body, ctx, store=_store(), workflows=_workflows(), jobs=declared_jobs.own(), sfn=aws.client("stepfunctions")
    )


@router.get("/api/v1/workflow-runs", tags=TAGS, summary="The workspace's workflow runs, newest first")
def list_workflow_runs(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> WorkflowRunPage:
    require(tenant_context(router), "jobs:read")
    return workflow_runs.page(_store(), limit=limit, cursor=cursor)


@router.get("/api/v1/workflow-runs/<execution_id>", tags=TAGS, summary="One workflow run with its steps")
def get_workflow_run(execution_id: Annotated[str, Path(pattern=EXECUTION_ID_PATTERN)]) -> WorkflowRun:
    ctx = tenant_context(router)
    require(ctx, "jobs:read")
    return workflow_runs.get(execution_id, _store(), sfn=aws.client("stepfunctions"), ctx=ctx)


@router.post("/api/v1/workflow-runs/<execution_id>/cancel", tags=TAGS, summary="Cancel a workflow run")
def cancel_workflow_run(execution_id: Annotated[str, Path(pattern=EXECUTION_ID_PATTERN)]) -> WorkflowRun:
    ctx = tenant_context(router)
    require(ctx, "jobs:cancel")
    return workflow_runs.cancel(execution_id, _store(), ctx, sfn=aws.client("stepfunctions"))
