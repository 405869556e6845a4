"""Schedules: a declared job enqueued on a cron or rate expression in an IANA time zone.

Each schedule is a row in the workflows table (the truth: definition, enabled, status) and an
EventBridge Scheduler schedule in the stage's group (the timing) whose target is the jobs queue
with a JobMessage-shaped body without a run id. The worker turns a firing into a run whose id is
derived from the schedule and the firing's `<aws.scheduler.scheduled-time>`, so every firing is
a distinct run and a redelivered firing is the same run (retries and duplicates behave like any
job message). The worker runs a firing only while its row is `active` and enabled.

Two stores, no distributed transaction, so every change is ordered to fail safe (docs/workflows.md):
* create: row `pending` (+ the tenant's count, under the limit) -> Scheduler CreateSchedule ->
  row `active` with `schedule.created`. A failed create removes the row again; a crash in between
  leaves a `pending` row whose firings the worker drops, repaired by PATCH or removed by DELETE.
* update: Scheduler UpdateSchedule (CreateSchedule if it is missing) -> row, with
  `schedule.updated`, conditional on the version read; a lost race re-syncs the Scheduler from
  the winning row and answers 409.
* delete: row `deleting` (firings stop at once) -> Scheduler DeleteSchedule (a missing one is
  fine) -> row removed (+ count) with `schedule.deleted`. A failure in between leaves `deleting`;
  DELETE again finishes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from functions.workflows.dal.schedules import ScheduleStore
from functions.workflows.models.schedules import Schedule, ScheduleCreate, SchedulePage, ScheduleUpdate
from ninefold_core import schedule_expressions as expressions
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, InvalidInput, NotFound, ServiceUnavailable
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.workflows import ScheduleCreated, ScheduleDeleted, ScheduleUpdated
from ninefold_core.jobs import DECLARED_SCHEDULE_PREFIX, JobMessage, JobSpec
from ninefold_core.jobs.firing import SCHEDULED_TIME, Firing
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

MAX_SCHEDULES_PER_TENANT: Final = 50
NEXT_RUNS: Final = 3
# EventBridge Scheduler: a target's Input is at most 8192 characters; a schedule name 1-64 of [0-9a-zA-Z-_.].
MAX_INPUT_CHARS: Final = 8192
_NAME_OK = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
SCHEDULE_ID_PATTERN: Final = r"^sch_[0-9a-f]{24}$"


def new_schedule_id() -> str:
    return f"sch_{uuid.uuid4().hex[:24]}"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


def scheduler_name(tenant_id: str, schedule_id: str) -> str:
    """The Scheduler schedule's name: `<tenant>.<schedule>` (a hash of the tenant if that does not fit)."""
    name = f"{tenant_id}.{schedule_id}"
    if _NAME_OK.match(name):
        return name
    return f"t{hashlib.sha256(tenant_id.encode()).hexdigest()[:24]}.{schedule_id}"


# --- validation and fire times -----------------------------------------------------------------


def expression_of(cron: str | None, rate: str | None) -> str:
    """The canonical Scheduler expression for a request's `cron` or `rate`; 422 when invalid."""
    try:
        if cron is not None:
            return expressions.cron_expression(cron)
        if rate is not None:
            return expressions.rate_expression(rate)
    except expressions.ScheduleExpressionError as exc:
        raise InvalidInput(f"The schedule is not valid: {exc}.") from None
    raise InvalidInput("Give a cron or a rate.")


def checked_timezone(name: str) -> str:
    try:
        expressions.zone(name)
    except expressions.ScheduleExpressionError as exc:
        raise InvalidInput(f"The time zone is not valid: {exc}.") from None
    return name


def next_runs(
    expression: str, timezone: str, *, after: float, anchor: float | None = None, count: int = NEXT_RUNS
) -> list[str]:
    """The next `count` fire times after `after`, ISO 8601 in `timezone` (with the UTC offset)."""
    parsed = expressions.parse(expression)
    at = dt.datetime.fromtimestamp(after, dt.UTC)
    start = dt.datetime.fromtimestamp(anchor, dt.UTC) if anchor is not None else None
    return [t.isoformat() for t in expressions.next_fires(parsed, at, timezone, start, count)]


def _checked_payload(spec: JobSpec[Any], payload: dict[str, Any]) -> dict[str, Any]:
    try:
        checked: dict[str, Any] = spec.payload.model_validate(payload).model_dump(mode="json")
    except ValidationError as exc:
        raise InvalidInput(f"The payload does not fit job {spec.name!r}: {exc.error_count()} problem(s).") from None
    return checked


def _spec(jobs: Mapping[str, JobSpec[Any]], name: str) -> JobSpec[Any]:
    spec = jobs.get(name)
    if spec is None:
        raise InvalidInput(f"There is no job named {name!r}.")
    return spec


# --- the firing message ------------------------------------------------------------------------


def firing_input(row: Mapping[str, Any], tenant_id: str) -> str:
    body = Firing(
        job=row["job"],
        tenant_id=tenant_id,
        payload=dict(row["payload"]),
        schedule_id=row["schedule_id"],
        scheduled_time=SCHEDULED_TIME,
        enqueued_by=f"schedule:{row['schedule_id']}",
    ).model_dump_json()
    if len(body) > MAX_INPUT_CHARS:
        raise InvalidInput(f"The payload is too large for a schedule (at most about {MAX_INPUT_CHARS} characters).")
    return body


def firing_allowed(message: JobMessage, store: ScheduleStore) -> bool:
    """A firing runs only while its schedule row exists, is `active` and enabled (a deleted,
    disabled, half-created or half-deleted schedule's late firings are dropped)."""
    if not message.schedule_id or message.schedule_id.startswith(DECLARED_SCHEDULE_PREFIX):
        return True  # not a workspace's schedule (a platform job's own is in the template)
    row = store.get(message.schedule_id)
    allowed = row is not None and row.get("status") == "active" and bool(row.get("enabled"))
    if not allowed:
        logger.info("firing of an inactive schedule dropped", extra={"schedule_id": message.schedule_id})
    return allowed


# --- EventBridge Scheduler ---------------------------------------------------------------------


class ScheduleRejected(Exception):
    """The Scheduler refused the definition (e.g. a time zone it does not know)."""


@dataclass(frozen=True)
class Scheduler:
    """EventBridge Scheduler, for one stage's schedule group and the jobs queue as target."""

    client: Any
    group: str
    role_arn: str
    queue_arn: str
    # Firings the Scheduler could not deliver after its retries go here instead of being dropped.
    dead_letter_arn: str = ""

    def _request(self, name: str, row: Mapping[str, Any], tenant_id: str) -> dict[str, Any]:
        target: dict[str, Any] = {
            "Arn": self.queue_arn,
            "RoleArn": self.role_arn,
            "Input": firing_input(row, tenant_id),
            # The worker's retries are the job's; the Scheduler only retries delivery.
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
        }
        if self.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        return {
            "Name": name,
            "GroupName": self.group,
            "ScheduleExpression": row["expression"],
            "ScheduleExpressionTimezone": row["timezone"],
            "State": "ENABLED" if row["enabled"] else "DISABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Description": f"workflows schedule {row['schedule_id']} of {tenant_id}: {row['job']}"[:512],
            "Target": target,
        }

    def _call(self, operation: str, request: dict[str, Any]) -> bool:
        """True when done, False when the schedule is missing (update/delete); raises otherwise."""
        from botocore.exceptions import ClientError

        try:
            getattr(self.client, operation)(**request)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                return False
            if code == "ValidationException":
                raise ScheduleRejected(exc.response.get("Error", {}).get("Message", "invalid")) from None
            raise
        return True

    def create(self, name: str, row: Mapping[str, Any], tenant_id: str) -> None:
        if not self._call("create_schedule", self._request(name, row, tenant_id)):
            raise LookupError(f"schedule group {self.group!r} not found")

    def put(self, name: str, row: Mapping[str, Any], tenant_id: str) -> None:
        """Update the schedule, or create it if it is missing (repairs a half-created one)."""
        request = self._request(name, row, tenant_id)
        if not self._call("update_schedule", request) and not self._call("create_schedule", request):
            raise LookupError(f"schedule group {self.group!r} not found")

    def delete(self, name: str) -> None:
        self._call("delete_schedule", {"Name": name, "GroupName": self.group})


# --- API use cases -----------------------------------------------------------------------------


def _view(row: Mapping[str, Any], now: float) -> Schedule:
    anchor = row.get("anchor")
    upcoming = (
        next_runs(row["expression"], row["timezone"], after=now, anchor=float(anchor) if anchor is not None else None)
        if row.get("enabled") and row.get("status") == "active"
        else []
    )
    fields = {k: v for k, v in row.items() if k in Schedule.model_fields}
    expression = str(row["expression"])
    kind = "cron" if expression.startswith("cron(") else "rate"
    return Schedule.model_validate({**fields, kind: expression, "next_runs": upcoming})


def _unavailable(action: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"The scheduler could not {action} the schedule; try again.")


def create(
    request: ScheduleCreate,
    ctx: TenantContext,
    *,
    store: ScheduleStore,
    scheduler: Scheduler,
    jobs: Mapping[str, JobSpec[Any]],
    now: float | None = None,
    limit: int = MAX_SCHEDULES_PER_TENANT,
) -> Schedule:
    at = time.time() if now is None else now
    spec = _spec(jobs, request.job)
    payload = _checked_payload(spec, request.payload)
    expression = expression_of(request.cron, request.rate)
    timezone = checked_timezone(request.timezone)
    if not next_runs(expression, timezone, after=at, anchor=at, count=1):
        raise InvalidInput("The schedule would never fire.")
    schedule_id = new_schedule_id()
    row: dict[str, Any] = {
        "schedule_id": schedule_id,
        "name": request.name,
        "job": spec.name,
        "payload": payload,
        "expression": expression,
        "timezone": timezone,
        "enabled": request.enabled,
        "status": "pending",
        "anchor": int(at),
        "created_at": iso(at),
        "updated_at": iso(at),
        "created_by": ctx.user_id,
        "version": 1,
    }
    firing_input(row, ctx.tenant_id)  # too large a payload fails before anything is written
    try:
        store.create(row, limit=limit)
    except ConditionFailed:
        raise Conflict(
            f"The workspace already has {limit} schedules; delete one first.", extensions={"limit": limit}
        ) from None
    name = scheduler_name(ctx.tenant_id, schedule_id)
    try:
        scheduler.create(name, row, ctx.tenant_id)
    except ScheduleRejected as exc:
        _forget(store, schedule_id)
        raise InvalidInput(f"The scheduler refused the schedule: {exc}") from None
    except Exception:
        logger.exception("creating the Scheduler schedule failed", extra={"schedule_id": schedule_id})
        _forget(store, schedule_id)
        raise _unavailable("create") from None
    event = new_envelope(
        ScheduleCreated(
            schedule_id=schedule_id,
            job=spec.name,
            expression=expression,
            timezone=timezone,
            enabled=request.enabled,
            created_by=ctx.user_id,
        ),
        ctx,
    )
    try:
        active = store.update(
            schedule_id, {"status": "active", "version": 2}, expected={"version": 1, "status": "pending"}, event=event
        )
    except Exception:
        logger.exception("activating the schedule failed; undoing", extra={"schedule_id": schedule_id})
        try:
            scheduler.delete(name)
            _forget(store, schedule_id)
        except Exception:  # the row stays pending: its firings are dropped; DELETE removes it
            logger.exception("undoing a half-created schedule failed", extra={"schedule_id": schedule_id})
        raise _unavailable("create") from None
    return _view(active, at)


def _forget(store: ScheduleStore, schedule_id: str) -> None:
    """Remove a row that never became active (no event: nobody heard of it)."""
    with contextlib.suppress(ConditionFailed):
        store.delete(schedule_id, expected={"status": "pending"})


def _row(store: ScheduleStore, schedule_id: str) -> dict[str, Any]:
    row = store.get(schedule_id)
    if row is None:
        raise NotFound("There is no such schedule.")
    return row


def get(schedule_id: str, store: ScheduleStore, now: float | None = None) -> Schedule:
    return _view(_row(store, schedule_id), time.time() if now is None else now)


def page(store: ScheduleStore, *, limit: int, cursor: str | None, now: float | None = None) -> SchedulePage:
    found = store.page(limit=limit, cursor=cursor)
    at = time.time() if now is None else now
    return SchedulePage(items=[_view(row, at) for row in found.items], cursor=found.cursor)


def update(
    schedule_id: str,
    request: ScheduleUpdate,
    ctx: TenantContext,
    *,
    store: ScheduleStore,
    scheduler: Scheduler,
    jobs: Mapping[str, JobSpec[Any]],
    now: float | None = None,
) -> Schedule:
    at = time.time() if now is None else now
    row = _row(store, schedule_id)
    if row.get("status") == "deleting":
        raise Conflict("The schedule is being deleted; delete it again to finish.")
    changes = _changes(row, request, jobs)
    changed = sorted(k for k, v in changes.items() if row.get(k) != v)
    if not changed and row.get("status") == "active":
        return _view(row, at)
    if "expression" in changed:
        changes["anchor"] = int(at)  # a rate counts again from its change, as the Scheduler does
    new = {**row, **changes, "status": "active"}
    if not next_runs(new["expression"], new["timezone"], after=at, anchor=float(new["anchor"]), count=1):
        raise InvalidInput("The schedule would never fire.")
    name = scheduler_name(ctx.tenant_id, schedule_id)
    try:
        scheduler.put(name, new, ctx.tenant_id)
    except ScheduleRejected as exc:
        raise InvalidInput(f"The scheduler refused the schedule: {exc}") from None
    except InvalidInput:
        raise
    except Exception:
        logger.exception("updating the Scheduler schedule failed", extra={"schedule_id": schedule_id})
        raise _unavailable("update") from None
    version = int(row.get("version", 0))
    event = new_envelope(
        ScheduleUpdated(
            schedule_id=schedule_id,
            job=new["job"],
            expression=new["expression"],
            timezone=new["timezone"],
            enabled=bool(new["enabled"]),
            changed=changed or ["status"],
            updated_by=ctx.user_id,
        ),
        ctx,
    )
    try:
        saved = store.update(
            schedule_id,
            {**changes, "status": "active", "updated_at": iso(at), "version": version + 1},
            expected={"version": version},
            event=event,
        )
    except ConditionFailed:
        _resync(store, scheduler, schedule_id, name, ctx.tenant_id)
        raise Conflict("The schedule was changed or deleted meanwhile; read it again.") from None
    return _view(saved, at)


def _changes(row: Mapping[str, Any], request: ScheduleUpdate, jobs: Mapping[str, JobSpec[Any]]) -> dict[str, Any]:
    """The validated new values a PATCH asks for."""
    changes: dict[str, Any] = {}
    if request.payload is not None:
        changes["payload"] = _checked_payload(_spec(jobs, row["job"]), request.payload)
    if request.cron is not None or request.rate is not None:
        changes["expression"] = expression_of(request.cron, request.rate)
    if request.timezone is not None:
        changes["timezone"] = checked_timezone(request.timezone)
    if request.name is not None:
        changes["name"] = request.name
    if request.enabled is not None:
        changes["enabled"] = request.enabled
    return changes


def _resync(store: ScheduleStore, scheduler: Scheduler, schedule_id: str, name: str, tenant_id: str) -> None:
    """After a lost race, make the Scheduler match the row that won (best effort)."""
    try:
        current = store.get(schedule_id)
        if current is None or current.get("status") == "deleting":
            scheduler.delete(name)
        elif current.get("status") == "active":
            scheduler.put(name, current, tenant_id)
    except Exception:
        logger.exception("re-syncing the Scheduler schedule failed", extra={"schedule_id": schedule_id})


def delete(schedule_id: str, ctx: TenantContext, *, store: ScheduleStore, scheduler: Scheduler) -> None:
    row = _row(store, schedule_id)
    version = int(row.get("version", 0))
    if row.get("status") != "deleting":
        try:
            store.update(schedule_id, {"status": "deleting", "version": version + 1}, expected={"version": version})
        except ConditionFailed:
            raise Conflict("The schedule was changed meanwhile; try again.") from None
        version += 1
    try:
        scheduler.delete(scheduler_name(ctx.tenant_id, schedule_id))
    except Exception:
        logger.exception("deleting the Scheduler schedule failed", extra={"schedule_id": schedule_id})
        raise _unavailable("delete") from None
    event = new_envelope(ScheduleDeleted(schedule_id=schedule_id, job=row["job"], deleted_by=ctx.user_id), ctx)
    try:
        store.delete(schedule_id, expected={"version": version}, event=event)
    except ConditionFailed:
        raise Conflict("The schedule was changed meanwhile; try again.") from None
