"""Background jobs: declare them once, enqueue them under a tenant, run them in the owner's worker.

```python
class EchoPayload(BaseModel):
    message: str

@job(name="workflows.echo", payload=EchoPayload, retry=RetryPolicy(max_attempts=3), timeout=30)
def echo(payload: EchoPayload, run: RunInfo) -> dict[str, Any]:
    return {"echo": payload.message}

run_id = enqueue(echo, EchoPayload(message="hi"), ctx, idempotency_key="order-42")
```

Ownership (ADR 0012, ADR 0014): a job belongs to the system that declares it (in
`functions/<system>/jobs/`, named `<system>.<verb>`), runs in that system's worker
(`ninefold_core.jobs.worker`) and keeps its run state in that system's table; `enqueue` only
sends one SQS message to the system's jobs queue. The message carries everything the worker needs
to create the run record (tenant, job, payload, idempotency key and TTL). Each run write reaches
the bus as `job_run.changed`, from which workflows keeps the one view of every system's runs.
The retry policy of every declared job sizes its system's queue (visibility, maxReceiveCount) at
synth time: the declaration is the single source.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ninefold_core import aws
from ninefold_core.errors import ConfigurationError
from ninefold_core.tenant import TenantContext

ENV_JOB_QUEUE_URL: Final = "JOB_QUEUE_URL"
DEFAULT_QUEUE: Final = "default"
DEFAULT_IDEMPOTENCY_TTL_SECONDS: Final = 24 * 3600
# SQS limits: DelaySeconds <= 15 min, a message's visibility <= 12 h.
MAX_DELAY_SECONDS: Final = 900
MAX_VISIBILITY_SECONDS: Final = 12 * 3600
# A run in one of these states never runs again (a replay moves a failed run back to queued).
TERMINAL: Final = frozenset({"succeeded", "failed", "cancelled"})
# A run in one of these waits for its next attempt; it can be cancelled.
WAITING: Final = frozenset({"queued", "retrying"})
# The runs of platform jobs (declared with a `schedule`) belong to this pseudo-tenant: no workspace
# has its id (workspace ids are `ws_...`), so none can see them; operators do, among failed runs.
PLATFORM_TENANT: Final = "platform"
# The schedule id of a declared platform schedule: `declared.<job>` (a workspace's are `sch_...`).
DECLARED_SCHEDULE_PREFIX: Final = "declared."
# Per tenant and job, unless the declaration says otherwise (ADR 0013).
DEFAULT_CONCURRENCY: Final = 5

PayloadT = TypeVar("PayloadT", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").

    Attempt n (1-based) that fails waits `uniform(0, min(max_delay, base_delay * 2**(n-1)))`
    seconds before attempt n+1; without jitter it waits the cap itself.
    """

    max_attempts: int = 3
    base_delay: float = 2.0
    max_delay: float = 300.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need 0 <= base_delay <= max_delay")
        if self.max_delay > MAX_VISIBILITY_SECONDS:
            raise ValueError(f"max_delay cannot exceed SQS's {MAX_VISIBILITY_SECONDS} s visibility limit")

    def ceiling(self, attempt: int) -> float:
        """The largest wait after failed attempt `attempt`."""
        return float(min(self.max_delay, self.base_delay * 2 ** max(0, attempt - 1)))

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> int:
        """Whole seconds to wait after failed attempt `attempt` (SQS visibility is in seconds)."""
        ceiling = self.ceiling(attempt)
        return round(ceiling * rng()) if self.jitter else round(ceiling)

    def retries_after(self, attempt: int) -> bool:
        return attempt < self.max_attempts


class NoPayload(BaseModel):
    """The payload of a job that takes none (a platform job on a clock: `@job(schedule=...)`)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class RunInfo:
    """What a job function learns about the run it executes."""

    run_id: str
    attempt: int
    ctx: TenantContext
    # The owning system's table (where the runtime keeps the run): the job's own data lives there too.
    table_name: str = ""
    # A schedule's firing: the time it was scheduled for (ISO 8601), e.g. the hour a report covers.
    scheduled_time: str | None = None

    def scheduled_at(self) -> datetime:
        """When this firing was scheduled for, so a late or retried run does the same work; the
        worker's clock for a run no schedule started."""
        if self.scheduled_time:
            return datetime.fromisoformat(self.scheduled_time.replace("Z", "+00:00"))
        return datetime.now(UTC)


@dataclass(frozen=True)
class JobSpec(Generic[PayloadT]):
    name: str
    payload: type[PayloadT]
    fn: Callable[[PayloadT, RunInfo], Any]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: int = 60
    queue: str = DEFAULT_QUEUE
    description: str = ""
    # Runs of this job one tenant may have in flight at once (the worker's lease slots, ADR 0013).
    concurrency: int = DEFAULT_CONCURRENCY
    # A platform job on a clock (ADR 0014): `cron(...)`/`rate(...)` read in `timezone`; its runs
    # belong to PLATFORM_TENANT and the stack makes one Scheduler schedule for it.
    schedule: str | None = None
    timezone: str = "UTC"


JOBS: dict[str, JobSpec[Any]] = {}


def jobs_of(system: str) -> dict[str, JobSpec[Any]]:
    """The declared jobs of one system (`<system>.<verb>`): what its worker may run."""
    return {name: spec for name, spec in JOBS.items() if name.split(".", 1)[0] == system}


def job(
    *,
    name: str,
    payload: type[PayloadT],
    retry: RetryPolicy | None = None,
    timeout: int = 60,
    queue: str = DEFAULT_QUEUE,
    description: str = "",
    concurrency: int = DEFAULT_CONCURRENCY,
    schedule: str | None = None,
    timezone: str = "UTC",
) -> Callable[[Callable[[PayloadT, RunInfo], Any]], JobSpec[PayloadT]]:
    """Declare a job and register it in `JOBS`. Names are `<system>.<verb>`, unique platform-wide.

    `concurrency`: how many runs of this job ONE tenant may have in flight at once; the worker
    defers a tenant's further messages (without counting an attempt) until a slot frees.
    `schedule`: makes it a platform job on a clock (`cron(...)` or `rate(...)`, read in
    `timezone`): the system's stack creates the schedule, each firing is a run of PLATFORM_TENANT
    with an empty payload and `RunInfo.scheduled_time`, retried and dead-lettered like any run."""
    if not 1 <= timeout <= 900:
        raise ValueError("timeout must be 1..900 seconds (a Lambda invocation's limit)")
    if not 1 <= concurrency <= 1000:
        raise ValueError("concurrency must be 1..1000 runs per tenant")
    if schedule is not None:
        from ninefold_core import schedule_expressions

        try:
            schedule_expressions.parse(schedule)
            schedule_expressions.zone(timezone)
        except schedule_expressions.ScheduleExpressionError as exc:
            raise ValueError(f"job {name!r}: {exc}") from None
        try:
            payload.model_validate({})
        except ValueError:
            raise ValueError(f"job {name!r} runs on a schedule, so its payload must accept {{}}") from None

    def register(fn: Callable[[PayloadT, RunInfo], Any]) -> JobSpec[PayloadT]:
        existing = JOBS.get(name)
        if existing is not None and existing.fn is not fn:
            raise ValueError(f"job {name!r} is declared twice")
        spec = JobSpec(
            name=name,
            payload=payload,
            fn=fn,
            retry=retry or RetryPolicy(),
            timeout=timeout,
            queue=queue,
            description=description or (fn.__doc__ or "").strip(),
            concurrency=concurrency,
            schedule=schedule,
            timezone=timezone,
        )
        JOBS[name] = spec
        return spec

    return register


def queue_settings(specs: Mapping[str, JobSpec[Any]] | None = None, queue: str = DEFAULT_QUEUE) -> tuple[int, int]:
    """(longest timeout, most attempts) of the jobs on `queue`: what sizes the worker and its queue."""
    on_queue = [s for s in (JOBS if specs is None else specs).values() if s.queue == queue]
    if not on_queue:
        raise ConfigurationError(f"no job is declared on queue {queue!r}")
    return max(s.timeout for s in on_queue), max(s.retry.max_attempts for s in on_queue)


class JobMessage(BaseModel):
    """The SQS body `enqueue` sends; everything the worker needs to create and run the run."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    job: str
    tenant_id: str
    payload: dict[str, Any]
    enqueued_by: str
    enqueued_at: float
    idempotency_key: str | None = Field(default=None, max_length=256)
    idempotency_ttl: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS
    request_id: str | None = None
    # A firing of a schedule (workflows' schedules): the schedule and the firing's scheduled time.
    schedule_id: str | None = None
    scheduled_time: str | None = None


def new_run_id() -> str:
    return f"run_{uuid.uuid4().hex}"


def build_message(
    spec: JobSpec[PayloadT] | str,
    payload: BaseModel | Mapping[str, Any],
    ctx: TenantContext,
    *,
    idempotency_key: str | None = None,
    idempotency_ttl: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    run_id: str | None = None,
    now: float | None = None,
) -> JobMessage:
    name = spec if isinstance(spec, str) else spec.name
    body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else dict(payload)
    return JobMessage(
        run_id=run_id or new_run_id(),
        job=name,
        tenant_id=ctx.tenant_id,
        payload=body,
        enqueued_by=ctx.user_id,
        enqueued_at=time.time() if now is None else now,
        idempotency_key=idempotency_key,
        idempotency_ttl=idempotency_ttl,
        request_id=ctx.request_id,
    )


def send(message: JobMessage, *, delay: int | None = None, queue_url: str | None = None, client: Any = None) -> None:
    url = queue_url or os.environ.get(ENV_JOB_QUEUE_URL)
    if not url:
        raise ConfigurationError(f"{ENV_JOB_QUEUE_URL} is not set and no queue_url was passed")
    request: dict[str, Any] = {"QueueUrl": url, "MessageBody": message.model_dump_json()}
    if delay:
        request["DelaySeconds"] = max(0, min(MAX_DELAY_SECONDS, int(delay)))
    (client or aws.client("sqs")).send_message(**request)


def enqueue(
    spec: JobSpec[PayloadT] | str,
    payload: BaseModel | Mapping[str, Any],
    ctx: TenantContext,
    *,
    idempotency_key: str | None = None,
    idempotency_ttl: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    delay: int | None = None,
    queue_url: str | None = None,
    client: Any = None,
) -> str:
    """Send one job message; the run id the worker will record (or, for a duplicate idempotency
    key within its TTL, the message is folded into the first run by the worker)."""
    if isinstance(spec, JobSpec) and not isinstance(payload, spec.payload):
        spec.payload.model_validate(payload)  # fail fast at the caller, not in the worker
    message = build_message(spec, payload, ctx, idempotency_key=idempotency_key, idempotency_ttl=idempotency_ttl)
    send(message, delay=delay, queue_url=queue_url, client=client)
    return message.run_id
