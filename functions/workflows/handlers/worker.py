"""The jobs worker: one SQS batch, one attempt per message, partial batch failures.

A retryable failure sets that message's visibility to the backoff (full jitter) and reports it
as a batch item failure, so SQS redelivers it then; `ApproximateReceiveCount` is the attempt
number. After the last attempt the run is failed and the message is left to SQS, which moves
it to the DLQ (maxReceiveCount = the most attempts of any job on the queue).
"""

from __future__ import annotations

from typing import Any

from functions.workflows import jobs as _declared  # noqa: F401  (registers the jobs in JOBS)
from functions.workflows.config import WorkflowsConfig
from functions.workflows.dal.runs import RunStore
from functions.workflows.logic import runs
from ninefold_core import aws
from ninefold_core.jobs import JOBS, MAX_VISIBILITY_SECONDS, JobMessage
from ninefold_core.observability import lambda_handler, logger, metrics
from ninefold_core.tenant import TenantContext

# EMF metrics (namespace Ninefold, dimension service=workflows) per ended attempt; the stack's
# JobFailureRateAlarm divides JobFailed by JobSucceeded + JobFailed (runbooks/jobs.md).
METRIC_OF: dict[str, str] = {"succeeded": "JobSucceeded", "retrying": "JobAttemptFailed", "failed": "JobFailed"}


class RetryLater(Exception):
    """Reported as a batch item failure; the message comes back after its visibility timeout."""


@lambda_handler(WorkflowsConfig)
def handler(event: dict[str, Any], context: Any, config: WorkflowsConfig) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    def record_handler(record: SQSRecord) -> None:
        message = JobMessage.model_validate_json(record.body)
        ctx = TenantContext.system(message.tenant_id, config.system)
        logger.append_keys(tenant_id=message.tenant_id, run_id=message.run_id, job=message.job)
        logger.set_correlation_id(message.request_id or message.run_id)
        receive_count = int(record.attributes.approximate_receive_count or 1)
        outcome = runs.execute(message, receive_count, store=RunStore(config.table_name, ctx), jobs=JOBS, ctx=ctx)
        if outcome.ended:
            from aws_lambda_powertools.metrics import MetricUnit

            metrics.add_metric(name=METRIC_OF[outcome.ended], unit=MetricUnit.Count, value=1)
        if outcome.done:
            return
        aws.client("sqs").change_message_visibility(
            QueueUrl=config.job_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, outcome.visibility)),
        )
        raise RetryLater(outcome.reason or "retry")

    # A batch whose every record failed is still a partial response, not an invocation error:
    # an error would retry the batch as a whole and hide which messages failed.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
