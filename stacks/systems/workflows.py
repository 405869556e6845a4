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
from constructs import Construct

from stacks.constants import API_VERSION_PREFIX, FUNCTIONS_DIR, handler_path
from stacks.system import Platform, SystemStack

JOB_MANIFEST: Final = FUNCTIONS_DIR / "workflows" / "jobs" / "manifest.json"
RUNBOOK_JOBS: Final = "runbooks/jobs.md"
ENV_JOB_QUEUE_URL: Final = "JOB_QUEUE_URL"  # ninefold_core.jobs.ENV_JOB_QUEUE_URL
# Bookkeeping around the job itself (run record reads/writes, visibility change).
WORKER_MARGIN_SECONDS: Final = 10
DEFAULT_QUEUE: Final = "default"


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

        api = self.function(
            "WorkflowsApi",
            handler_path(self.system, "api"),
            timeout=cdk.Duration.seconds(10),
            environment={ENV_JOB_QUEUE_URL: self.job_queue.queue_url},
            description="Workflows HTTP API: enqueue declared jobs, read and cancel runs",
        )
        self.grant_table_read_write(api)
        self.job_queue.grant_send_messages(api)
        self.routes(
            api,
            [
                f"POST {API_VERSION_PREFIX}/runs",
                f"GET {API_VERSION_PREFIX}/runs",
                f"GET {API_VERSION_PREFIX}/runs/{{run_id}}",
                f"POST {API_VERSION_PREFIX}/runs/{{run_id}}/cancel",
            ],
        )
