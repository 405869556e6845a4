"""The workflows step Lambda: what every Task state of a `statemachines/workflows/*.asl.json`
definition invokes (`arn:aws:states:::lambda:invoke`).

`{tenant_id, execution_id, step, job, retry_count, payload}` runs one attempt of the job and
records it; `{tenant_id, execution_id, step, finish, error?}` records the run's end. A failure is
raised, so the Task's Retry/Catch apply to the exception's class name (docs/workflows.md).
"""

from __future__ import annotations

from typing import Any

from functions.workflows import jobs as declared_jobs
from functions.workflows.dal.workflow_runs import WorkflowRunStore
from functions.workflows.logic import workflow_runs
from functions.workflows.models.workflow_runs import StepEvent
from ninefold_core.config import BaseConfig
from ninefold_core.observability import lambda_handler, logger
from ninefold_core.tenant import TenantContext


@lambda_handler(BaseConfig)
def handler(event: dict[str, Any], context: Any, config: BaseConfig) -> Any:
    step = StepEvent.model_validate(event)
    ctx = TenantContext.system(step.tenant_id, config.system)
    logger.append_keys(tenant_id=step.tenant_id, execution_id=step.execution_id, step=step.step, job=step.job)
    store = WorkflowRunStore(config.table_name, ctx)
    return workflow_runs.run_step(step, ctx, store=store, jobs=declared_jobs.own())
