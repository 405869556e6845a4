"""The job-commands consumer of a system with jobs (ADR 0014): cancel and replay requests that
workflows' run API publishes for that system's runs, carried out on the system's own run store.

Wired by `SystemStack.jobs()` to a queue whose rule selects `job_run.cancel_requested` and
`job_run.replay_requested` naming this system. A request that no longer applies (the run left
`queued`, or is not `failed`) is dropped with a log line: the run's own state is the answer, and
the run API shows it through `job_run.changed`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ninefold_core.consumers import consume_events
from ninefold_core.errors import Conflict, NotFound
from ninefold_core.events import Envelope, EventData
from ninefold_core.events.schemas.workflows import JobRunCancelRequested, JobRunReplayRequested
from ninefold_core.jobs import JobMessage, control, send
from ninefold_core.jobs.store import RunStore
from ninefold_core.jobs.worker import JobsConfig
from ninefold_core.observability import lambda_handler, logger
from ninefold_core.tenant import TenantContext

ENV_JOB_DLQ_URL = "JOB_DLQ_URL"


class JobCommandsConfig(JobsConfig):
    job_dlq_url: str = Field(default="", alias=ENV_JOB_DLQ_URL)


@lambda_handler(JobCommandsConfig)
def handler(event: dict[str, Any], context: Any, config: JobCommandsConfig) -> dict[str, Any]:
    def apply(envelope: Envelope[EventData], ctx: TenantContext) -> None:
        command = envelope.data
        if not isinstance(command, JobRunCancelRequested | JobRunReplayRequested) or command.system != config.system:
            logger.warning("not a job command for this system; dropped", extra={"type": envelope.metadata.type})
            return
        store = RunStore(config.table_name, ctx)
        logger.append_keys(run_id=command.run_id, job=command.job, requested_by=command.requested_by)
        try:
            if isinstance(command, JobRunCancelRequested):
                control.cancel(command.run_id, store)
                logger.info("run cancelled on request")
                return

            def enqueue(message: JobMessage) -> None:
                send(message, queue_url=config.job_queue_url)

            _, sent = control.replay(command.run_id, store, ctx, send=enqueue)
            if sent and config.job_dlq_url:
                control.remove_dead_letter(config.job_dlq_url, command.run_id, ctx.tenant_id)
            logger.info("run replayed on request", extra={"sent": sent})
        except (Conflict, NotFound) as exc:
            logger.info("job command no longer applies; dropped", extra={"reason": exc.detail})

    return consume_events(event, context, config, apply, consumer="job-commands")
