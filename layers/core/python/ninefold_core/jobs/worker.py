"""The job worker every system that declares jobs runs: one SQS batch, one attempt per message,
partial batch failures (ADR 0012, ADR 0013, ADR 0014).

A system's worker handler is three lines: import its jobs package (which registers them in
`JOBS`) and call `process_batch` with its `JobsConfig`. Run state, idempotency claims and
fairness slots live in that system's own table; nothing here knows which system it runs in.

Fairness first (ADR 0013): the whole batch is admitted against per-tenant lease slots before
anything runs; a message whose tenant is at its limit is deferred (a delayed copy is sent and
this one deleted, so no attempt and no receive is counted). The admitted records then run one
after the other.

A retryable failure sets that message's visibility to the backoff (full jitter) and reports it
as a batch item failure, so SQS redelivers it then; the attempt number is counted in the run
(receives that ran nothing are no attempts). After the last attempt the run is failed and the
message is left to SQS, which moves it to the DLQ (maxReceiveCount = the most attempts of any job
on the queue + a slack for receives without an attempt).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from ninefold_core import aws
from ninefold_core.config import BaseConfig
from ninefold_core.jobs import ENV_JOB_QUEUE_URL, MAX_VISIBILITY_SECONDS, JobMessage, JobSpec, execution, slots
from ninefold_core.jobs.firing import job_message
from ninefold_core.jobs.store import RunStore
from ninefold_core.observability import logger, metrics
from ninefold_core.tenant import TenantContext

ENV_TENANT_MAX_IN_FLIGHT = "TENANT_MAX_IN_FLIGHT"
# Runs of one tenant in flight at once, across its jobs (ADR 0013); each job also has its own limit.
DEFAULT_TENANT_MAX_IN_FLIGHT = 10
# EMF metrics (namespace Ninefold, dimension service=<system>) per ended attempt; the stack's
# JobFailureRateAlarm divides JobFailed by JobSucceeded + JobFailed (runbooks/jobs.md).
METRIC_OF: dict[str, str] = {"succeeded": "JobSucceeded", "retrying": "JobAttemptFailed", "failed": "JobFailed"}
# Lease length when there is no Lambda context to ask (tests): Lambda's longest invocation.
DEFAULT_LEASE_SECONDS = 900


class JobsConfig(BaseConfig):
    """What a job worker needs besides the base: its queue (deferrals, visibility) and the tenant cap."""

    job_queue_url: str = Field(alias=ENV_JOB_QUEUE_URL, min_length=1)
    tenant_max_in_flight: int = Field(default=DEFAULT_TENANT_MAX_IN_FLIGHT, alias=ENV_TENANT_MAX_IN_FLIGHT, ge=1)


class RetryLater(Exception):
    """Reported as a batch item failure; the message comes back after its visibility timeout."""


def process_batch(
    event: dict[str, Any],
    context: Any,
    config: JobsConfig,
    *,
    jobs: Mapping[str, JobSpec[Any]],
    parse: Callable[[str], JobMessage] = job_message,
    allowed: Callable[[JobMessage, TenantContext], bool] | None = None,
) -> dict[str, Any]:
    """Run one SQS batch of job messages; the partial batch response.

    `parse`: the view of a body (by default a JobMessage, or a schedule's firing made into one).
    `allowed`: a last check before the attempt (workflows drops the firings of a disabled schedule)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    now = time.time()
    # Leases last as long as this invocation can (a crashed or timed-out worker's slots free themselves).
    remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_LEASE_SECONDS
    lease_until = now + remaining + slots.LEASE_MARGIN_SECONDS
    records = event.get("Records") or []
    messages, admitted, deferred = _admit(records, config, jobs, parse, lease_until=lease_until, now=now)
    requeued = _defer(config, deferred)
    if deferred:
        logger.info("batch admitted", extra={"records": len(records), "deferred": len(deferred)})

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in requeued:
            return  # a fresh copy waits out its delay; this one is deleted
        message = messages.get(record.message_id) or parse(record.body)
        ctx = TenantContext.system(message.tenant_id, config.system)
        logger.append_keys(tenant_id=message.tenant_id, run_id=message.run_id, job=message.job)
        logger.set_correlation_id(message.request_id or message.run_id)
        if record.message_id in deferred:
            # Could not send the copy: come back after the deferral delay (one receive, no attempt).
            _change_visibility(config, record.receipt_handle, slots.defer_delay())
            raise RetryLater("tenant at its concurrency limit")
        receive_count = int(record.attributes.approximate_receive_count or 1)
        try:
            if allowed is not None and not allowed(message, ctx):
                return
            outcome = execution.execute(
                message,
                receive_count,
                store=RunStore(config.table_name, ctx),
                jobs=jobs,
                ctx=ctx,
                delivery=record.message_id,
            )
        finally:
            if record.message_id in admitted:
                slots.release(message, jobs, slots.SlotStore(config.table_name, ctx), now=time.time())
        if outcome.ended:
            from aws_lambda_powertools.metrics import MetricUnit

            metrics.add_metric(name=METRIC_OF[outcome.ended], unit=MetricUnit.Count, value=1)
        if outcome.done:
            return
        _change_visibility(config, record.receipt_handle, outcome.visibility)
        raise RetryLater(outcome.reason or "retry")

    # A batch whose every record failed is still a partial response, not an invocation error:
    # an error would retry the batch as a whole and hide which messages failed.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


def _admit(
    records: list[dict[str, Any]],
    config: JobsConfig,
    jobs: Mapping[str, JobSpec[Any]],
    parse: Callable[[str], JobMessage],
    *,
    lease_until: float,
    now: float,
) -> tuple[dict[str, JobMessage], set[str], dict[str, dict[str, Any]]]:
    """Admit the batch in order before running any of it: (the parsed messages, admitted message
    ids, deferred records), each by message id. A body that is not a `JobMessage` is none of them
    (its record fails in the record handler)."""
    messages: dict[str, JobMessage] = {}
    admitted: set[str] = set()
    deferred: dict[str, dict[str, Any]] = {}
    for record in records:
        try:
            message = parse(record.get("body") or "")
        except ValueError:
            continue
        messages[record["messageId"]] = message
        ctx = TenantContext.system(message.tenant_id, config.system)
        decision = slots.admit(
            message,
            jobs.get(message.job),
            slots.SlotStore(config.table_name, ctx),
            tenant_cap=config.tenant_max_in_flight,
            lease_until=lease_until,
            now=now,
        )
        if decision.admitted:
            admitted.add(record["messageId"])
        else:
            logger.info(
                "tenant at its concurrency limit; message deferred",
                extra={"tenant_id": message.tenant_id, "run_id": message.run_id, "limit": decision.scope},
            )
            deferred[record["messageId"]] = record
    return messages, admitted, deferred


def _defer(config: JobsConfig, deferred: dict[str, dict[str, Any]]) -> set[str]:
    """Send a delayed copy of every deferred message; the ids whose copy was accepted."""
    sent: set[str] = set()
    items = list(deferred.items())
    for start in range(0, len(items), 10):
        chunk = items[start : start + 10]
        try:
            response = aws.client("sqs").send_message_batch(
                QueueUrl=config.job_queue_url,
                Entries=[
                    {"Id": str(i), "MessageBody": record["body"], "DelaySeconds": slots.defer_delay()}
                    for i, (_, record) in enumerate(chunk)
                ],
            )
        except Exception:
            # Not sent: these records come back after their visibility delay instead. Raising here
            # would fail the whole batch and keep the admitted records' slots until their leases end.
            logger.warning("could not send deferred copies", exc_info=True)
            continue
        sent.update(chunk[int(ok["Id"])][0] for ok in response.get("Successful") or [])
    return sent


def _change_visibility(config: JobsConfig, receipt_handle: str, seconds: int) -> None:
    aws.client("sqs").change_message_visibility(
        QueueUrl=config.job_queue_url,
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, seconds)),
    )
