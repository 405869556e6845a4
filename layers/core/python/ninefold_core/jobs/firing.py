"""A schedule's firing: the body EventBridge Scheduler sends to a jobs queue, turned into a run.

A firing is a JobMessage without run id and enqueue time, with the schedule's id and the firing's
`<aws.scheduler.scheduled-time>` (substituted by the Scheduler). The worker mints the run id from
the tenant, the schedule and that time, so every firing is a distinct run and a redelivered firing
(or a duplicate) is the same run: retries and duplicates behave like any job message.

Two kinds of schedules send firings: a workspace's own schedules (workflows' schedules API) and
the platform schedules a system declares with `@job(schedule=...)` (ADR 0014), whose schedule id
is `declared.<job>` and whose tenant is `PLATFORM_TENANT`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from ninefold_core.jobs import DECLARED_SCHEDULE_PREFIX, PLATFORM_TENANT, JobMessage, JobSpec

SCHEDULED_TIME: Final = "<aws.scheduler.scheduled-time>"


class Firing(BaseModel):
    """The body the Scheduler sends to the jobs queue: a JobMessage without run id and time."""

    model_config = ConfigDict(frozen=True)

    job: str
    tenant_id: str
    payload: dict[str, Any]
    schedule_id: str
    scheduled_time: str = Field(min_length=1)
    enqueued_by: str


def firing_run_id(tenant_id: str, schedule_id: str, scheduled_time: str) -> str:
    """One run id per firing: the same for every delivery of it, different for every firing."""
    digest = hashlib.sha256(f"{tenant_id}|{schedule_id}|{scheduled_time}".encode()).hexdigest()
    return f"run_{digest[:32]}"


def _epoch(text: str) -> float:
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"scheduled time without a time zone: {text!r}")
    return when.timestamp()


def job_message(body: str) -> JobMessage:
    """The worker's view of an SQS body: a JobMessage, or a schedule's firing made into one (its
    run id minted from the schedule and the scheduled time). Raises ValueError for anything else."""
    try:
        raw = json.loads(body)
    except ValueError:
        raw = None
    if isinstance(raw, dict) and raw.get("schedule_id") and not raw.get("run_id"):
        firing = Firing.model_validate(raw)
        at = _epoch(firing.scheduled_time)  # an unsubstituted placeholder fails here
        return JobMessage(
            run_id=firing_run_id(firing.tenant_id, firing.schedule_id, firing.scheduled_time),
            job=firing.job,
            tenant_id=firing.tenant_id,
            payload=firing.payload,
            enqueued_by=firing.enqueued_by,
            enqueued_at=at,
            schedule_id=firing.schedule_id,
            scheduled_time=firing.scheduled_time,
        )
    return JobMessage.model_validate_json(body)


def declared_firing(spec: JobSpec[Any]) -> str:
    """The Scheduler target input of a platform job's own schedule (`@job(schedule=...)`)."""
    schedule_id = f"{DECLARED_SCHEDULE_PREFIX}{spec.name}"
    return Firing(
        job=spec.name,
        tenant_id=PLATFORM_TENANT,
        payload={},
        schedule_id=schedule_id,
        scheduled_time=SCHEDULED_TIME,
        enqueued_by=f"schedule:{schedule_id}",
    ).model_dump_json()
