"""Events produced by workflows (background jobs and their schedules).

A schedule's events go to the workspace (tenant) that owns it. They carry the schedule's
definition but never its payload (job payloads may hold anything a workspace puts there).
"""

from __future__ import annotations

from pydantic import Field

from ninefold_core.events.catalog import event
from ninefold_core.events.envelope import EventData


@event("schedule.created", producer="workflows")
class ScheduleCreated(EventData):
    """A schedule was created: a declared job will be enqueued on a cron or rate expression."""

    schedule_id: str
    job: str
    expression: str = Field(description="`cron(...)` or `rate(...)`, as EventBridge Scheduler reads it.")
    timezone: str = Field(description="The IANA time zone the expression is read in.")
    enabled: bool
    created_by: str


@event("schedule.updated", producer="workflows")
class ScheduleUpdated(EventData):
    """A schedule changed (expression, time zone, payload, name, or enabled/disabled)."""

    schedule_id: str
    job: str
    expression: str
    timezone: str
    enabled: bool
    changed: list[str] = Field(description="The fields the change touched, e.g. `['enabled']`.")
    updated_by: str


@event("schedule.deleted", producer="workflows")
class ScheduleDeleted(EventData):
    """A schedule was deleted; it fires no more."""

    schedule_id: str
    job: str
    deleted_by: str


@event("workflow_run.started", producer="workflows")
class WorkflowRunStarted(EventData):
    """A multi-step workflow run (a Step Functions execution) started. Never carries the input."""

    execution_id: str
    workflow: str = Field(description="The declared workflow, e.g. `workflows.onboarding`.")
    started_by: str


@event("workflow_run.succeeded", producer="workflows")
class WorkflowRunSucceeded(EventData):
    """Every step of a workflow run succeeded."""

    execution_id: str
    workflow: str


@event("workflow_run.failed", producer="workflows")
class WorkflowRunFailed(EventData):
    """A workflow run failed: a step failed every attempt, or the execution could not start or ended badly."""

    execution_id: str
    workflow: str
    error: str = Field(description="The error name, e.g. the failing step's exception class.")
    step: str | None = Field(default=None, description="The step that failed, when known.")


@event("workflow_run.cancelled", producer="workflows")
class WorkflowRunCancelled(EventData):
    """A workflow run was cancelled (its execution stopped)."""

    execution_id: str
    workflow: str
    cancelled_by: str


@event("job_run.cancel_requested", producer="workflows")
class JobRunCancelRequested(EventData):
    """A workspace asked workflows' run API to cancel a queued run of another system's job. That
    system's job runtime cancels it if it is still queued (its `job_run.changed` then shows it)."""

    system: str = Field(description="The system that owns the job and its run state.")
    run_id: str
    job: str
    requested_by: str


@event("job_run.replay_requested", producer="workflows")
class JobRunReplayRequested(EventData):
    """A workspace asked workflows' run API to replay a failed run of another system's job. That
    system's job runtime puts it back in its queue under the same run id and idempotency key."""

    system: str = Field(description="The system that owns the job and its run state.")
    run_id: str
    job: str
    requested_by: str
