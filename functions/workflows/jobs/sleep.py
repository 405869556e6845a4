"""`workflows.sleep`: a demo job that takes time. It holds one of its tenant's slots while it runs
(`concurrency=2` per tenant), which is what the fairness test and benchmark measure.

`crash_on_attempt` makes the worker *process* die during that attempt (like a Lambda timeout or
an out-of-memory kill): the exception is not an `Exception`, so neither the job runner nor the
batch processor catches it, the invocation fails and its whole batch comes back after the
visibility timeout. It exists to prove crash safety end to end.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from ninefold_core.jobs import RetryPolicy, RunInfo, job


class SleepPayload(BaseModel):
    seconds: float = Field(default=0, ge=0, le=10)
    crash_on_attempt: int = Field(default=0, ge=0, le=10)


class WorkerCrash(SystemExit):
    """The worker process dies mid-batch (simulated)."""


@job(
    name="workflows.sleep",
    payload=SleepPayload,
    retry=RetryPolicy(max_attempts=3, base_delay=2, max_delay=60),
    timeout=30,
    concurrency=2,
    description="Sleep `seconds`; crash the worker process on attempt `crash_on_attempt` (demo, tests).",
)
def sleep(payload: SleepPayload, run: RunInfo) -> dict[str, Any]:
    if run.attempt == payload.crash_on_attempt:
        raise WorkerCrash(f"worker crashed during attempt {run.attempt} on purpose")
    if payload.seconds:
        time.sleep(payload.seconds)
    return {"slept": payload.seconds, "attempt": run.attempt}
