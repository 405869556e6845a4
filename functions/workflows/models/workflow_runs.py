"""Multi-step workflows on Step Functions: the declared workflows, their runs and steps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

WorkflowRunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
StepStatus = Literal["running", "succeeded", "failed"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class WorkflowStepInfo(BaseModel):
    step: str = Field(description="The Task state's name.")
    job: str = Field(description="The declared job the step runs.")
    payload_path: str = Field(description="Where the step's payload is read from the execution input, e.g. `$.input`.")


class Workflow(BaseModel):
    name: str = Field(description="`workflows.<file name>` of `statemachines/workflows/<name>.asl.json`.")
    description: str = ""
    steps: list[WorkflowStepInfo]


class WorkflowList(BaseModel):
    """The platform's declared workflows (the same for every workspace: not a listing of its objects)."""

    workflows: list[Workflow]


class WorkflowRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow: str = Field(min_length=1, max_length=128)
    input: dict[str, Any] = Field(default_factory=dict)


class StepError(BaseModel):
    error: str
    cause: str = ""


class WorkflowStep(BaseModel):
    step: str
    job: str | None = None
    status: StepStatus
    attempt: int = Field(description="The latest attempt (1-based).")
    started_at: str
    finished_at: str | None = None
    error: StepError | None = None
    attempts: list[dict[str, Any]] = Field(default_factory=list, description="start/finish/error per attempt.")


class WorkflowRun(BaseModel):
    execution_id: str
    workflow: str
    status: WorkflowRunStatus
    input: dict[str, Any]
    created_at: str
    created_by: str
    updated_at: str
    finished_at: str | None = None
    error: StepError | None = None
    steps: list[WorkflowStep] = Field(default_factory=list)


class WorkflowRunPage(BaseModel):
    items: list[WorkflowRun]
    cursor: str | None = None


class StepEvent(BaseModel):
    """What a Task state sends the step Lambda: a job step, or (with `finish`) the run's end."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    execution_id: str
    step: str = Field(min_length=1, max_length=80)
    job: str | None = None
    payload: Any = None
    retry_count: int | None = Field(default=None, ge=0, description="`$$.State.RetryCount` of the Task.")
    finish: Literal["succeeded", "failed"] | None = None
    error: dict[str, Any] | None = Field(default=None, description="The Catch's `{Error, Cause}`.")
