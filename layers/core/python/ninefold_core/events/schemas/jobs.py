"""Events of the job runtime (`ninefold_core.jobs`), emitted by whichever system owns the job.

Every write of a run record (created, started, retrying, succeeded, failed, cancelled, replayed)
reaches the owner's table stream, and its outbox relay turns it into one `job_run.changed`
(ADR 0014). The envelope's `source` is the owning system, e.g. `ninefold.identity`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from ninefold_core.events.catalog import ANY_PRODUCER, event
from ninefold_core.events.envelope import EventData

# Bigger payloads and results are left out of the event (EventBridge takes 256 KB per entry).
MAX_INLINE_BYTES = 16 * 1024


def inline(value: Any) -> Any:
    """`value`, or a marker when its JSON is bigger than MAX_INLINE_BYTES."""
    size = len(json.dumps(value, default=str, separators=(",", ":")))
    return value if size <= MAX_INLINE_BYTES else {"omitted": f"{size} bytes"}


@event("job_run.changed", producer=ANY_PRODUCER)
class JobRunChanged(EventData):
    """A job run's state after one write, as the owning system's run record holds it. Readers keep
    the highest `revision` of a run they have seen: events can arrive out of order and twice.
    A `payload` or `result` bigger than 16 KB is replaced by `{"omitted": "<n> bytes"}`."""

    system: str = Field(description="The system that owns the job and ran it.")
    run_id: str
    job: str
    status: str = Field(description="queued, running, retrying, succeeded, failed or cancelled.")
    revision: int = Field(ge=1, description="Counts the run record's writes; higher is newer.")
    attempts: int = 0
    max_attempts: int = 1
    attempt_base: int = 0
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    next_attempt_at: str | None = None
    last_error: str | None = None
    dead_lettered: bool = False
    replays: int = 0
    replayed_at: str | None = None
    idempotency_key: str | None = None
    enqueued_by: str | None = None
    attempt_log: list[dict[str, Any]] = Field(default_factory=list)
    # A workspace's own data: kept out of anything that stores events for people to read.
    payload: dict[str, Any] = Field(default_factory=dict, json_schema_extra={"sensitive": True})
    result: Any = Field(default=None, json_schema_extra={"sensitive": True})
