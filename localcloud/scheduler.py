"""Fires EventBridge Scheduler schedules and scheduled EventBridge rules on the warp clock.

Schedules are read from moto's backends on every cycle, so the ones a handler
creates at runtime through the Scheduler API fire too, not only the template's.
Every occurrence between two cycles fires in order: advancing the clock three
days runs a daily schedule three times. FlexibleTimeWindow is treated as OFF.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from localcloud.clients import Clients
from localcloud.clock import WarpClock
from localcloud.events import EventDispatcher, iso_time, scheduled_event
from localcloud.intrinsics import ACCOUNT_ID, REGION
from localcloud.targets import TargetSender
from localcloud.workers import Worker
from ninefold_core import schedule_expressions as sx

log = logging.getLogger("localcloud.scheduler")

MAX_FIRINGS_PER_CYCLE = 1000


@dataclass
class _Tracked:
    expression: str
    timezone: str
    last: float  # firings up to this warped instant are done
    anchor: float


@dataclass
class Firing:
    kind: str  # "schedule" | "rule"
    name: str
    arn: str
    scheduled_time: str


def _epoch(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=dt.UTC).timestamp()
    if isinstance(value, int | float):
        return float(value)
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def render_schedule_input(text: str, schedule_arn: str, when: dt.datetime, attempt: int = 1) -> str:
    """EventBridge Scheduler's context attributes inside a target's Input."""
    return (
        text.replace("<aws.scheduler.schedule-arn>", schedule_arn)
        .replace("<aws.scheduler.scheduled-time>", iso_time(when))
        .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
        .replace("<aws.scheduler.attempt-number>", str(attempt))
    )


class Scheduler(Worker):
    name = "scheduler"
    idle_interval = 1.0

    def __init__(self, clock: WarpClock, sender: TargetSender, dispatcher: EventDispatcher, clients: Clients) -> None:
        super().__init__()
        self.clock = clock
        self.sender = sender
        self.dispatcher = dispatcher
        self.clients = clients
        self._tracked: dict[str, _Tracked] = {}
        self._parsed: dict[str, sx.Expression] = {}
        self.history: list[Firing] = []
        self._lock = threading.Lock()

    def cycle(self) -> bool:
        with self._lock:
            now = self.clock.now()
            fired = self._run_schedules(now) + self._run_rules(now)
        return fired > 0

    def observe(self, now: float) -> None:
        """Note schedules created since the last cycle, just before the clock jumps,
        so that a schedule created and then warped past fires."""
        try:
            with self._lock:
                for key, expression, timezone, start in self._all_schedules():
                    self._track(key, expression, timezone, now, start)
        except RuntimeError:  # a moto dict changed size mid-iteration; the next cycle catches up
            pass

    def _all_schedules(self) -> list[tuple[str, str, str, float | None]]:
        from moto.events.models import events_backends
        from moto.scheduler.models import scheduler_backends

        found: list[tuple[str, str, str, float | None]] = []
        for group in list(scheduler_backends[ACCOUNT_ID][REGION].schedule_groups.values()):
            for schedule in list(group.schedules.values()):
                found.append(
                    (
                        schedule.arn,
                        schedule.schedule_expression,
                        schedule.schedule_expression_timezone or "UTC",
                        _epoch(schedule.start_date),
                    )
                )
        for bus in list(events_backends[ACCOUNT_ID][REGION].event_buses.values()):
            for rule in list(bus.rules.values()):
                expression = getattr(rule, "scheduled_expression", None)
                if expression:
                    found.append((rule.arn, str(expression), "UTC", None))
        return found

    # -- EventBridge Scheduler ----------------------------------------------

    def _run_schedules(self, now: float) -> int:
        from moto.scheduler.models import scheduler_backends

        backend = scheduler_backends[ACCOUNT_ID][REGION]
        fired = 0
        for group in list(backend.schedule_groups.values()):
            for schedule in list(group.schedules.values()):
                fired += self._run_schedule(schedule, now)
        return fired

    def _run_schedule(self, schedule: Any, now: float) -> int:
        start, end = _epoch(schedule.start_date), _epoch(schedule.end_date)
        times = self._due(
            schedule.arn, schedule.schedule_expression, schedule.schedule_expression_timezone or "UTC", now, start, end
        )
        if str(schedule.state).upper() != "ENABLED":
            return 0
        for when in times:
            self._fire_schedule(schedule, when)
        one_time = isinstance(self._expression(schedule.schedule_expression), sx.At)
        if times and one_time and str(schedule.action_after_completion or "NONE").upper() == "DELETE":
            self.clients.get("scheduler").delete_schedule(Name=schedule.name, GroupName=schedule.group_name)
        return len(times)

    def _fire_schedule(self, schedule: Any, when: dt.datetime) -> None:
        target: dict[str, Any] = dict(schedule.target or {})
        arn = str(target.get("Arn", ""))
        text = render_schedule_input(str(target.get("Input") or "{}"), schedule.arn, when)
        payload: Any = text
        if ":sqs:" not in arn:
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text
        self.history.append(Firing("schedule", schedule.name, schedule.arn, iso_time(when)))
        delivered = self.sender.send(
            arn,
            payload,
            source=f"schedule:{schedule.name}",
            sqs_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
            bus_parameters=target.get("EventBridgeParameters") or ({} if ":event-bus/" in arn else None),
        )
        dead_letters = str((target.get("DeadLetterConfig") or {}).get("Arn") or "")
        if not delivered and dead_letters:
            # As the Scheduler does once its retries are spent (not emulated: the first failure
            # counts): the target's input goes to the dead-letter queue.
            self.sender.send(dead_letters, text, source=f"schedule-dlq:{schedule.name}")

    # -- scheduled rules ---------------------------------------------------------

    def _run_rules(self, now: float) -> int:
        from moto.events.models import events_backends

        backend = events_backends[ACCOUNT_ID][REGION]
        fired = 0
        for bus in list(backend.event_buses.values()):
            for rule in list(bus.rules.values()):
                expression = getattr(rule, "scheduled_expression", None)
                if not expression:
                    continue
                times = self._due(rule.arn, str(expression), "UTC", now, None, None)
                if str(rule.state) != "ENABLED":
                    continue
                for when in times:
                    self.history.append(Firing("rule", rule.name, rule.arn, iso_time(when)))
                    self.dispatcher.deliver(rule.name, rule.arn, list(rule.targets), scheduled_event(rule.arn, when))
                fired += len(times)
        return fired

    # -- timing -----------------------------------------------------------------

    def _expression(self, text: str) -> sx.Expression:
        parsed = self._parsed.get(text)
        if parsed is None:
            parsed = sx.parse(text)
            self._parsed[text] = parsed
        return parsed

    def _track(self, key: str, expression: str, timezone: str, now: float, start: float | None) -> _Tracked:
        tracked = self._tracked.get(key)
        if tracked is None or tracked.expression != expression or tracked.timezone != timezone:
            # Only occurrences after the schedule is first seen fire (no back-fill).
            first = max(now, start or now)
            tracked = _Tracked(expression, timezone, last=first, anchor=start or first)
            self._tracked[key] = tracked
        return tracked

    def _due(
        self, key: str, expression: str, timezone: str, now: float, start: float | None, end: float | None
    ) -> list[dt.datetime]:
        tracked = self._track(key, expression, timezone, now, start)
        try:
            parsed = self._expression(expression)
            sx.zone(timezone or "UTC")
        except sx.ScheduleExpressionError as exc:
            log.warning("schedule %s: %s", key, exc)
            tracked.last = now
            return []
        times: list[dt.datetime] = []
        after = dt.datetime.fromtimestamp(tracked.last, tz=dt.UTC)
        anchor = dt.datetime.fromtimestamp(tracked.anchor, tz=dt.UTC)
        while len(times) < MAX_FIRINGS_PER_CYCLE:
            upcoming = sx.next_fire(parsed, after, timezone, anchor)
            if upcoming is None or upcoming.timestamp() > now or (end is not None and upcoming.timestamp() > end):
                break
            times.append(upcoming)
            after = upcoming
        tracked.last = max(tracked.last, now)
        return times
