"""Schedules: a declared job fired on a cron or rate expression in a time zone, per tenant."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ScheduleStatus = Literal["pending", "active", "deleting"]


class ScheduleCreate(BaseModel):
    """`cron` (EventBridge Scheduler's six fields, with or without `cron(...)`) or `rate`
    (`5 minutes` or `rate(5 minutes)`, at least one minute): exactly one of them."""

    model_config = ConfigDict(extra="forbid")

    job: str = Field(min_length=1, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict)
    cron: str | None = Field(default=None, min_length=1, max_length=256)
    rate: str | None = Field(default=None, min_length=1, max_length=64)
    timezone: str = Field(default="UTC", min_length=1, max_length=64, description="An IANA time zone name.")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool = True

    @model_validator(mode="after")
    def _one_expression(self) -> ScheduleCreate:
        if (self.cron is None) == (self.rate is None):
            raise ValueError("give exactly one of cron and rate")
        return self


class ScheduleUpdate(BaseModel):
    """What to change; a new `cron` or `rate` replaces the expression (at most one of them)."""

    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] | None = None
    cron: str | None = Field(default=None, min_length=1, max_length=256)
    rate: str | None = Field(default=None, min_length=1, max_length=64)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    enabled: bool | None = None

    @model_validator(mode="after")
    def _at_most_one_expression(self) -> ScheduleUpdate:
        if self.cron is not None and self.rate is not None:
            raise ValueError("give at most one of cron and rate")
        return self


class Schedule(BaseModel):
    schedule_id: str
    name: str | None = None
    job: str
    payload: dict[str, Any]
    expression: str = Field(description="`cron(...)` or `rate(...)`, as EventBridge Scheduler reads it.")
    cron: str | None = None
    rate: str | None = None
    timezone: str
    enabled: bool
    status: ScheduleStatus = Field(
        description="`active` once the Scheduler schedule exists; `pending`/`deleting` while a change is in flight."
    )
    created_at: str
    updated_at: str
    created_by: str | None = None
    next_runs: list[str] = Field(
        default_factory=list,
        description="The next (up to 3) fire times, ISO 8601 in the schedule's time zone (with its UTC offset).",
    )


class SchedulePage(BaseModel):
    items: list[Schedule]
    cursor: str | None = None
