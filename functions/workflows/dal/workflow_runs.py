"""Workflow runs (Step Functions executions) in the workflows table.

Keys (every pk starts with `T#<tenant>` from the verified context)
* `T#<tenant>#WFRUN#<execution_id>` / `run`           the execution row; gsi1 `T#<tenant>#WFRUNS` / `<created_at>#<id>`
* `T#<tenant>#WFRUN#<execution_id>` / `step#<state>`  one item per Task state: status, attempt, timings, error
* `T#<tenant>#OUTBOX#<event id>` / `event`            workflow_run.* events, relayed to the bus (ADR 0006)

Run transitions are conditional on the status the writer read and carry their event in the same
transaction; step items are conditional on the attempt the writer read, so a redelivered
invocation of one attempt never records twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ninefold_core.dynamo import ConditionFailed, Page, TenantRepository
from ninefold_core.events.envelope import Envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.tenant import TenantContext

RUNS_INDEX = "gsi1"
RUN_SK = "run"
STEP_PREFIX = "step#"

__all__ = ["ConditionFailed", "WorkflowRunStore"]


def _pk(execution_id: str) -> tuple[str, str]:
    return ("WFRUN", execution_id)


class WorkflowRunStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    # --- the run ---------------------------------------------------------------------------------

    def create(self, row: dict[str, Any]) -> dict[str, Any]:
        gsi = {RUNS_INDEX: (("WFRUNS",), f"{row['created_at']}#{row['execution_id']}")}
        return self.repo.put(_pk(row["execution_id"]), RUN_SK, row, if_absent=True, gsi=gsi)

    def get(self, execution_id: str) -> dict[str, Any] | None:
        return self.repo.get(_pk(execution_id), RUN_SK, consistent=True)

    def transition(
        self, execution_id: str, changes: Mapping[str, Any], *, seen: str, event: Envelope[Any] | None = None
    ) -> None:
        """Apply `changes` if the run's status is still `seen`, with its event; `ConditionFailed` otherwise."""
        ops = [self.repo.update_op(_pk(execution_id), RUN_SK, changes, expected={"status": seen})]
        if event is not None:
            ops.append(outbox_op(self.repo, event))
        self.repo.transact(ops)

    def page(self, *, limit: int, cursor: str | None) -> Page:
        return self.repo.query(("WFRUNS",), index=RUNS_INDEX, limit=limit, cursor=cursor, newest_first=True)

    # --- its steps -------------------------------------------------------------------------------

    def steps(self, execution_id: str) -> list[dict[str, Any]]:
        return list(self.repo.query_all(_pk(execution_id), sk_prefix=STEP_PREFIX))

    def step(self, execution_id: str, step: str) -> dict[str, Any] | None:
        return self.repo.get(_pk(execution_id), STEP_PREFIX + step, consistent=True)

    def put_step(self, execution_id: str, step: str, item: Mapping[str, Any], *, seen_attempt: int | None) -> None:
        """Write the step item if its attempt is still `seen_attempt` (None: the item must not exist)."""
        if seen_attempt is None:
            self.repo.put(_pk(execution_id), STEP_PREFIX + step, item, if_absent=True)
            return
        self.repo.update(
            _pk(execution_id), STEP_PREFIX + step, item, expected={"attempt": seen_attempt}, return_item=False
        )
