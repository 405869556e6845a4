"""`Ninefold-Workflows`: the jobs queue and worker, and the run API (docs/workflows.md, ADR 0012).

The queue is sized from the job declarations (via `functions/workflows/jobs/manifest.json`,
derived from the `@job` decorators and checked by a unit test): the worker's timeout is the
longest job timeout plus a margin, the visibility timeout is `VISIBILITY_TIMEOUT_FACTOR` times
that, and maxReceiveCount is the most attempts any job declares, so a job's last attempt is
always made before SQS dead-letters its message.
"""

from __future__ import annotations

import json
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from constructs import Construct

from stacks.constants import API_VERSION_PREFIX, FUNCTIONS_DIR, handler_path
from stacks.system import Platform, SystemStack

JOB_MANIFEST: Final = FUNCTIONS_DIR / "workflows" / "jobs" / "manifest.json"
RUNBOOK_JOBS: Final = "runbooks/jobs.md"
ENV_JOB_QUEUE_URL: Final = "JOB_QUEUE_URL"  # ninefold_core.jobs.ENV_JOB_QUEUE_URL
ENV_JOB_DLQ_URL: Final = "JOB_DLQ_URL"  # functions.workflows.config.ENV_JOB_DLQ_URL
# Bookkeeping around the job itself (run record reads/writes, visibility change).
WORKER_MARGIN_SECONDS: Final = 10
DEFAULT_QUEUE: Final = "default"
# JobFailed / (JobSucceeded + JobFailed), EMF from the worker (functions/workflows/handlers/worker.py).
METRICS_NAMESPACE: Final = "Ninefold"  # ninefold_core.observability.metrics
FAILURE_RATE_PERCENT: Final = 20
FAILURE_RATE_MIN_RUNS: Final = 5


def queue_policy(manifest: dict[str, Any], queue: str = DEFAULT_QUEUE) -> tuple[int, int]:
    """(longest job timeout, most attempts) on `queue`."""
    jobs = [j for j in manifest["jobs"].values() if j["queue"] == queue]
    if not jobs:
        raise ValueError(f"no job is declared on queue {queue!r}")
    return max(int(j["timeout"]) for j in jobs), max(int(j["max_attempts"]) for j in jobs)


class WorkflowsStack(SystemStack):
    system = "workflows"

    def __init__(self, scope: Construct, *, platform: Platform, **kwargs: Any) -> None:
        super().__init__(scope, platform=platform, table_indexes=("gsi1",), **kwargs)
        longest, attempts = queue_policy(json.loads(JOB_MANIFEST.read_text()))

        worker = self.function(
            "WorkflowsWorker",
            handler_path(self.system, "worker"),
            timeout=cdk.Duration.seconds(longest + WORKER_MARGIN_SECONDS),
            description="Runs one attempt of a job per message; backoff by message visibility",
        )
        self.grant_table_read_write(worker)
        # One message per invocation: attempts run sequentially, so a batch would multiply the
        # worst-case duration (and the visibility it needs) by the batch size.
        self.job_queue = self.consumer("JobQueue", worker, batch_size=1, max_receive_count=attempts)
        self.job_queue.grant(worker, "sqs:ChangeMessageVisibility")
        worker.add_environment(ENV_JOB_QUEUE_URL, self.job_queue.queue_url)

        alarm = self.node.find_child("JobQueueDeadLettersAlarm").node.default_child
        assert isinstance(alarm, cloudwatch.CfnAlarm)
        alarm.alarm_description = (
            f"{self.system}/JobQueue: job runs failed all their attempts (or were invalid) and their "
            f"messages wait in the dead-letter queue. Runbook: {RUNBOOK_JOBS}"
        )

        self.failure_rate_alarm()

        api = self.function(
            "WorkflowsApi",
            handler_path(self.system, "api"),
            timeout=cdk.Duration.seconds(10),
            environment={ENV_JOB_QUEUE_URL: self.job_queue.queue_url},
            description="Workflows HTTP API: enqueue declared jobs, read, cancel and replay runs, dead letters",
        )
        self.grant_table_read_write(api)
        self.job_queue.grant_send_messages(api)
        # Dead letters: replay removes the run's message; the operator redrive moves them all back.
        assert self.job_queue.dead_letter_queue is not None
        dead_letters = self.job_queue.dead_letter_queue.queue
        api.add_environment(ENV_JOB_DLQ_URL, dead_letters.queue_url)
        dead_letters.grant_consume_messages(api)
        self.routes(
            api,
            [
                f"POST {API_VERSION_PREFIX}/runs",
                f"GET {API_VERSION_PREFIX}/runs",
                f"GET {API_VERSION_PREFIX}/runs/{{run_id}}",
                f"POST {API_VERSION_PREFIX}/runs/{{run_id}}/cancel",
                f"POST {API_VERSION_PREFIX}/runs/{{run_id}}/replay",
                f"GET {API_VERSION_PREFIX}/dead-letters",
                f"GET {API_VERSION_PREFIX}/dead-letters/{{run_id}}",
                f"POST {API_VERSION_PREFIX}/dead-letters/redrive",
            ],
        )

    def failure_rate_alarm(self) -> cloudwatch.Alarm:
        """Runs failing for good, as a share of the runs that ended, over 15 minutes (with a
        minimum volume, so that one failure among two runs does not page)."""

        def metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": self.system},
                statistic=cloudwatch.Stats.SUM,
                period=cdk.Duration.minutes(15),
            )

        rate = cloudwatch.MathExpression(
            expression=f"IF((ok + failed) >= {FAILURE_RATE_MIN_RUNS}, 100 * failed / (ok + failed), 0)",
            using_metrics={"ok": metric("JobSucceeded"), "failed": metric("JobFailed")},
            label="Job failure rate (%)",
            period=cdk.Duration.minutes(15),
        )
        alarm = cloudwatch.Alarm(
            self,
            "JobFailureRateAlarm",
            metric=rate,
            threshold=FAILURE_RATE_PERCENT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"{self.system}: more than {FAILURE_RATE_PERCENT}% of the job runs that ended in 15 minutes "
                f"failed every attempt (at least {FAILURE_RATE_MIN_RUNS} runs). Runbook: {RUNBOOK_JOBS}"
            ),
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.platform.alarms_topic))
        return alarm
