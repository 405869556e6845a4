"""Schedules in the workflows table (the Scheduler holds the timing, this row is the truth).

Keys (every pk starts with `T#<tenant>` from the verified context)
* `T#<tenant>#SCHED#<schedule_id>` / `schedule`   the schedule; gsi1 `T#<tenant>#SCHEDULES` / `<created_at>#<id>`
* `T#<tenant>#SCHEDCOUNT` / `count`               how many schedules the tenant has (the limit's guard)
* `T#<tenant>#OUTBOX#<event id>` / `event`        schedule.* events, relayed to the bus (ADR 0006)

Every change is one transaction with its event; creating and deleting also move the counter, and
creating is conditional on the counter being under the limit, so concurrent creates cannot
overshoot it. Changes are conditional on the `version` the caller read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ninefold_core.dynamo import ConditionFailed, Page, TenantRepository, serialize
from ninefold_core.events.envelope import Envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.tenant import TenantContext

SCHEDULES_INDEX = "gsi1"
SCHEDULE_SK = "schedule"
COUNT_SK = "count"


class LimitReached(ConditionFailed):
    """The tenant already has the most schedules it may have."""


def _pk(schedule_id: str) -> tuple[str, str]:
    return ("SCHED", schedule_id)


class ScheduleStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    def get(self, schedule_id: str) -> dict[str, Any] | None:
        return self.repo.get(_pk(schedule_id), SCHEDULE_SK, consistent=True)

    def count(self) -> int:
        found = self.repo.get(("SCHEDCOUNT",), COUNT_SK, consistent=True)
        return int(found["count"]) if found else 0

    def _count_op(self, delta: int, *, below: int | None = None) -> dict[str, Any]:
        op: dict[str, Any] = {
            "TableName": self.repo.table_name,
            "Key": serialize({"pk": self.repo.key("SCHEDCOUNT"), "sk": COUNT_SK}),
            "UpdateExpression": "SET #c = if_not_exists(#c, :zero) + :delta",
            "ExpressionAttributeNames": {"#c": "count"},
            "ExpressionAttributeValues": serialize({":zero": 0, ":delta": delta}),
        }
        if below is not None:
            op["ConditionExpression"] = "attribute_not_exists(#c) OR #c < :limit"
            op["ExpressionAttributeValues"] = serialize({":zero": 0, ":delta": delta, ":limit": below})
        return {"Update": op}

    def create(self, row: dict[str, Any], *, limit: int) -> dict[str, Any]:
        """Write a new schedule row (no event yet: it is `pending`); `LimitReached` at the limit."""
        gsi = {SCHEDULES_INDEX: (("SCHEDULES",), f"{row['created_at']}#{row['schedule_id']}")}
        try:
            self.repo.transact(
                [
                    self.repo.put_op(_pk(row["schedule_id"]), SCHEDULE_SK, row, if_absent=True, gsi=gsi),
                    self._count_op(1, below=limit),
                ]
            )
        except ConditionFailed:
            raise LimitReached("The workspace has too many schedules.") from None
        return row

    def update(
        self,
        schedule_id: str,
        changes: Mapping[str, Any],
        *,
        expected: Mapping[str, Any],
        event: Envelope[Any] | None = None,
    ) -> dict[str, Any]:
        """Apply `changes` if the row still has the `expected` values (with its event, if any);
        the new row. Raises `ConditionFailed`."""
        ops = [self.repo.update_op(_pk(schedule_id), SCHEDULE_SK, changes, expected=expected)]
        if event is not None:
            ops.append(outbox_op(self.repo, event))
        self.repo.transact(ops)
        found = self.get(schedule_id)
        if found is None:
            raise ConditionFailed("It was removed meanwhile.")
        return found

    def delete(
        self, schedule_id: str, *, expected: Mapping[str, Any] | None = None, event: Envelope[Any] | None = None
    ) -> None:
        """Remove the row and give its place back under the limit, with its event; `ConditionFailed`
        when it is gone or changed."""
        ops = [
            self.repo.delete_op(_pk(schedule_id), SCHEDULE_SK, must_exist=True, expected=expected),
            self._count_op(-1),
        ]
        if event is not None:
            ops.append(outbox_op(self.repo, event))
        self.repo.transact(ops)

    def page(self, *, limit: int, cursor: str | None) -> Page:
        return self.repo.query(("SCHEDULES",), index=SCHEDULES_INDEX, limit=limit, cursor=cursor)
