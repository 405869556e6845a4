"""Schedules: a declared job enqueued on a cron or rate expression in a time zone
(EventBridge Scheduler; docs/workflows.md#schedules)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.workflows import jobs as declared_jobs
from functions.workflows.config import WorkflowsConfig
from functions.workflows.dal.schedules import ScheduleStore
from functions.workflows.logic import schedules
from functions.workflows.logic.schedules import SCHEDULE_ID_PATTERN, Scheduler
from functions.workflows.models.schedules import Schedule, ScheduleCreate, SchedulePage, ScheduleUpdate
from ninefold_core import aws
from ninefold_core.errors import ConfigurationError
from ninefold_core.http import current_config, tenant_context
from ninefold_core.tenant import require

router = APIGatewayHttpRouter()
TAGS = ["workflows"]
NO_CONTENT: dict[int, OpenAPIResponse] = {204: {"description": "Deleted; it fires no more"}}


def _store() -> ScheduleStore:
    return ScheduleStore(current_config(router, WorkflowsConfig).table_name, tenant_context(router))


def _scheduler() -> Scheduler:
    config = current_config(router, WorkflowsConfig)
    if not (config.schedule_group and config.scheduler_role_arn and config.job_queue_arn):
        raise ConfigurationError("SCHEDULE_GROUP, SCHEDULER_ROLE_ARN and JOB_QUEUE_ARN must be set for schedules")
    return Scheduler(
        client=aws.client("scheduler"),
        group=config.schedule_group,
        role_arn=config.scheduler_role_arn,
        queue_arn=config.job_queue_arn,
        dead_letter_arn=config.schedule_dlq_arn,
    )


@router.post("/api/v1/schedules", tags=TAGS, summary="Schedule a declared job (cron or rate, in a time zone)")
def create_schedule(body: ScheduleCreate) -> Response[Schedule]:
    ctx = tenant_context(router)
    require(ctx, "jobs:run")
    created = schedules.create(body, ctx, store=_store(), scheduler=_scheduler(), jobs=declared_jobs.own())
    return Response(status_code=201, body=created, content_type="application/json")


@router.get("/api/v1/schedules", tags=TAGS, summary="The workspace's schedules, oldest first, with next fire times")
def list_schedules(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> SchedulePage:
    require(tenant_context(router), "jobs:read")
    return schedules.page(_store(), limit=limit, cursor=cursor)


@router.get("/api/v1/schedules/<schedule_id>", tags=TAGS, summary="One schedule, with its next 3 fire times")
def get_schedule(schedule_id: Annotated[str, Path(pattern=SCHEDULE_ID_PATTERN)]) -> Schedule:
    require(tenant_context(router), "jobs:read")
    return schedules.get(schedule_id, _store())


@router.patch("/api/v1/schedules/<schedule_id>", tags=TAGS, summary="Change, enable or disable a schedule")
def update_schedule(schedule_id: Annotated[str, Path(pattern=SCHEDULE_ID_PATTERN)], body: ScheduleUpdate) -> Schedule:
    ctx = tenant_context(router)
    require(ctx, "jobs:run")
    return schedules.update(schedule_id, body, ctx, store=_store(), scheduler=_scheduler(), jobs=declared_jobs.own())


@router.delete(
    "/api/v1/schedules/<schedule_id>", tags=TAGS, summary="Delete a schedule (it fires no more)", responses=NO_CONTENT
)
def delete_schedule(schedule_id: Annotated[str, Path(pattern=SCHEDULE_ID_PATTERN)]) -> Response[None]:
    ctx = tenant_context(router)
    require(ctx, "jobs:run")
    schedules.delete(schedule_id, ctx, store=_store(), scheduler=_scheduler())
    return Response(status_code=204)
