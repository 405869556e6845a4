"""Keeps workflows' read model of the runs other systems own: every `job_run.changed` from
another system's job runtime (ADR 0014) becomes that run's row, newest revision wins."""

from __future__ import annotations

from typing import Any

from functions.workflows.config import RunViewsConfig
from functions.workflows.dal.runs import RunViews
from ninefold_core.consumers import consume_events
from ninefold_core.events import Envelope, EventData
from ninefold_core.observability import lambda_handler, logger
from ninefold_core.tenant import TenantContext


@lambda_handler(RunViewsConfig)
def handler(event: dict[str, Any], context: Any, config: RunViewsConfig) -> dict[str, Any]:
    def project(envelope: Envelope[EventData], ctx: TenantContext) -> None:
        run = envelope.data.model_dump(mode="json")
        if run.get("system") == config.system:
            return  # workflows' own runs are their own rows already (the rule filters them out too)
        if not RunViews(config.table_name, ctx).apply(run):
            logger.info("older or duplicate run snapshot ignored", extra={"run_id": run.get("run_id")})

    # The revision-guarded write is idempotent by itself: no idempotency records needed.
    return consume_events(event, context, config, project, consumer="run-views", idempotent=False)
