"""`workflows.echo`: the demo job. Echoes its message; fails its first `fail_times` attempts.

It exists to prove the engine end to end (retries, backoff, DLQ, idempotency) and as the
smallest example of a job declaration.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ninefold_core.jobs import RetryPolicy, RunInfo, job


class EchoPayload(BaseModel):
    message: str = Field(max_length=1000)
    fail_times: int = Field(default=0, ge=0, le=10)


class EchoFailure(RuntimeError):
    """The deliberate failure of an echo attempt."""


@job(
    name="workflows.echo",
    payload=EchoPayload,
    retry=RetryPolicy(max_attempts=3, base_delay=2, max_delay=60),
    timeout=30,
    description="Echo the message back; fail the first `fail_times` attempts.",
)
def echo(payload: EchoPayload, run: RunInfo) -> dict[str, Any]:
    if run.attempt <= payload.fail_times:
        raise EchoFailure(f"attempt {run.attempt} failed on purpose")
    return {"echo": payload.message, "attempt": run.attempt}
