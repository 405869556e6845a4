"""The job runtime's infrastructure, derived from a system's job declarations (ADR 0012, 0014).

A system that declares jobs (`functions/<system>/jobs/`, `@job` from `ninefold_core.jobs`) calls
`SystemStack.jobs()` and gets its own queue, dead-letter queue, worker and event source mapping,
the DLQ-depth and failure-rate alarms, and the stream rule that turns its run writes into
`job_run.changed` events. Nothing is listed twice: the sizes come from
`functions/<system>/jobs/manifest.json`, which `python -m scripts.job_manifests` derives from the
decorators (the CDK environment cannot import the jobs, ADR 0007; a unit test fails on drift).

* The worker takes batches of up to `WORKER_BATCH_SIZE` messages; its timeout is that many of the
  longest job plus a margin, and the queue's visibility is `VISIBILITY_TIMEOUT_FACTOR` times that,
  so no message of a live batch is redelivered.
* maxReceiveCount is the most attempts any job declares plus `RECEIVE_SLACK` (receives that run no
  attempt: a deferral that could not be sent, a crashed batch that never reached the record), so a
  job's last attempt is always made before SQS dead-letters its message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from stacks.constants import FUNCTIONS_DIR

RUNBOOK_JOBS: Final = "runbooks/jobs.md"
ENV_JOB_QUEUE_URL: Final = "JOB_QUEUE_URL"  # ninefold_core.jobs.ENV_JOB_QUEUE_URL
# Bookkeeping around the job itself (run record reads/writes, visibility change).
WORKER_MARGIN_SECONDS: Final = 10
# Messages per worker invocation (partial batch failures; ADR 0013), capped by the Lambda limit.
WORKER_BATCH_SIZE: Final = 10
LAMBDA_MAX_TIMEOUT_SECONDS: Final = 900
# Receives beyond the most attempts before SQS moves a message to the DLQ (ADR 0013).
RECEIVE_SLACK: Final = 2
DEFAULT_QUEUE: Final = "default"
# JobFailed / (JobSucceeded + JobFailed), EMF from the worker (ninefold_core.jobs.worker).
METRICS_NAMESPACE: Final = "Ninefold"  # ninefold_core.observability.metrics
FAILURE_RATE_PERCENT: Final = 20
FAILURE_RATE_MIN_RUNS: Final = 5
RUN_KIND: Final = "job_run"  # ninefold_core.jobs.store.RUN_KIND
# Cancel/replay requests for a system's runs, published by workflows' run API (ADR 0014).
JOB_COMMANDS: Final = ("job_run.cancel_requested", "job_run.replay_requested")
JOB_COMMANDS_HANDLER: Final = "ninefold_core.jobs.commands.handler"
ENV_JOB_DLQ_URL: Final = "JOB_DLQ_URL"  # ninefold_core.jobs.commands.ENV_JOB_DLQ_URL
MANIFEST_NAME: Final = "manifest.json"


def manifest_path(system: str) -> Path:
    return FUNCTIONS_DIR / system / "jobs" / MANIFEST_NAME


def load_manifest(system: str) -> dict[str, Any]:
    path = manifest_path(system)
    if not path.exists():
        raise ValueError(f"{system} declares no jobs: {path} is missing (python -m scripts.job_manifests)")
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def queue_policy(manifest: dict[str, Any], queue: str = DEFAULT_QUEUE) -> tuple[int, int]:
    """(longest job timeout, most attempts) on `queue`."""
    jobs = [j for j in manifest["jobs"].values() if j["queue"] == queue]
    if not jobs:
        raise ValueError(f"no job is declared on queue {queue!r}")
    return max(int(j["timeout"]) for j in jobs), max(int(j["max_attempts"]) for j in jobs)


def worker_batch_size(longest: int) -> int:
    """Messages per worker invocation: up to WORKER_BATCH_SIZE, fewer when that many of the longest
    job would not fit in one Lambda invocation (900 s)."""
    return max(1, min(WORKER_BATCH_SIZE, (LAMBDA_MAX_TIMEOUT_SECONDS - WORKER_MARGIN_SECONDS) // longest))


def worker_timeout(longest: int, batch: int) -> int:
    """A whole batch of the longest job, one after the other, plus bookkeeping."""
    return batch * longest + WORKER_MARGIN_SECONDS
