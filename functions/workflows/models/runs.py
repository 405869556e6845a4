"""Run records and the run API's models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

RunStatus = Literal["queued", "running", "retrying", "succeeded", "failed", "cancelled"]


class Attempt(BaseModel):
    attempt: int
    started_at: str
    finished_at: str | None = None
    error: str | None = None


class Run(BaseModel):
    run_id: str
    job: str
    # The system whose job runtime ran it; runs of other systems are a read model here (ADR 0014).
    system: str = "workflows"
    status: RunStatus
    payload: dict[str, Any]
    attempts: int = 0
    max_attempts: int
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    next_attempt_at: str | None = None
    last_error: str | None = None
    result: Any = None
    idempotency_key: str | None = None
    enqueued_by: str | None = None
    attempt_log: list[Attempt] = Field(default_factory=list)
    # Set when the run failed for good: its message goes to the (shared) dead-letter queue.
    dead_lettered: bool = False
    replays: int = 0
    # Attempts made before the last replay; the retry budget counts from here.
    attempt_base: int = 0
    replayed_at: str | None = None


class RunPage(BaseModel):
    items: list[Run]
    cursor: str | None = None


class AdminRun(Run):
    """A run in the operators' cross-tenant view: which workspace it belongs to."""

    tenant_id: str


class AdminRunPage(BaseModel):
    items: list[AdminRun]
    cursor: str | None = None


class RedriveResult(BaseModel):
    moved: int


class EnqueueRequest(BaseModel):
    job: str = Field(min_length=1, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=256)
    idempotency_ttl: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)


class DeclaredJob(BaseModel):
    """A job any workspace may enqueue: its name, payload schema and how it runs."""

    name: str
    description: str
    queue: str
    timeout: int = Field(description="Seconds one attempt may take.")
    max_attempts: int
    concurrency: int = Field(description="Runs of this job one workspace may have in flight at once.")
    payload_schema: dict[str, Any] = Field(description="JSON Schema of the payload `POST /runs` takes.")


class JobList(BaseModel):
    """The platform's catalogue, the same for every workspace (so not an `items` listing of objects)."""

    jobs: list[DeclaredJob]
