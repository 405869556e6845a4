"""Workflows' job worker: the core job runtime (`ninefold_core.jobs.worker`) over workflows' own
jobs, plus what schedules need: a schedule's firing becomes a run (its run id minted from the
schedule and the scheduled time), and a firing of a disabled or deleted schedule is dropped."""

from __future__ import annotations

from typing import Any

from functions.workflows import jobs as declared_jobs
from functions.workflows.config import WorkflowsConfig
from functions.workflows.dal.schedules import ScheduleStore
from functions.workflows.logic import schedules
from ninefold_core.jobs import JobMessage
from ninefold_core.jobs.worker import process_batch
from ninefold_core.observability import lambda_handler
from ninefold_core.tenant import TenantContext


@lambda_handler(WorkflowsConfig)
def handler(event: dict[str, Any], context: Any, config: WorkflowsConfig) -> dict[str, Any]:
    def allowed(message: JobMessage, ctx: TenantContext) -> bool:
        return schedules.firing_allowed(message, ScheduleStore(config.table_name, ctx))

    return process_batch(event, context, config, jobs=declared_jobs.own(), allowed=allowed)
