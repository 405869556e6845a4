"""Job runs in the workflows table (the only writer of run state, ADR 0012).

Keys (every pk starts with `T#<tenant>` from the verified context)
* `T#<tenant>#RUN#<run_id>` / `run`                   the run; gsi1 `T#<tenant>#RUNS` / `<created_at>#<run_id>`
* `T#<tenant>#IDEM#<job>#<key>` / `idem`              idempotency claim -> run_id, until `expires_at`

A run and its claim are written in one transaction, conditional on absence, so concurrent
duplicates create one run. State changes are conditional on the status the caller saw.
"""

from __future__ import annotations

import time
from typing import Any

from ninefold_core.dynamo import ConditionFailed, Page, TenantRepository
from ninefold_core.tenant import TenantContext

RUNS_INDEX = "gsi1"
RUN_SK = "run"
IDEM_SK = "idem"


def _run_pk(run_id: str) -> tuple[str, str]:
    return ("RUN", run_id)


class RunStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    def get(self, run_id: str) -> dict[str, Any] | None:
        return self.repo.get(_run_pk(run_id), RUN_SK, consistent=True)

    def create(
        self, run: dict[str, Any], *, idempotency_ttl: int, now: float | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Create `run` (status queued); (the run, True), or (the existing run, False) when this
        run id already exists or its idempotency key is claimed by a live run."""
        now = time.time() if now is None else now
        run_id, key = run["run_id"], run.get("idempotency_key")
        gsi = {RUNS_INDEX: (("RUNS",), f"{run['created_at']}#{run_id}")}
        ops = [self.repo.put_op(_run_pk(run_id), RUN_SK, run, if_absent=True, gsi=gsi)]
        if key:
            expires = int(now + idempotency_ttl)
            claim = {"run_id": run_id, "expires_at": expires}
            ops.append(self.repo.put_op(("IDEM", run["job"], key), IDEM_SK, claim, if_absent=True, ttl=expires))
        try:
            self.repo.transact(ops)
            return run, True
        except ConditionFailed:
            pass
        existing = self.get(run_id)
        if existing is not None:
            return existing, False
        claimed = self.repo.get(("IDEM", run["job"], key), IDEM_SK, consistent=True) if key else None
        if claimed is not None and int(claimed["expires_at"]) > now:
            first = self.get(str(claimed["run_id"]))
            if first is not None:
                return first, False
        if claimed is not None:
            # The claim expired (TTL deletion is lazy): take it over, guarded by its old run id.
            expires = int(now + idempotency_ttl)
            self.repo.update(
                ("IDEM", run["job"], str(key)),
                IDEM_SK,
                {"run_id": run_id, "expires_at": expires, "ttl": expires},
                expected={"run_id": claimed["run_id"]},
                return_item=False,
            )
        self.repo.put(_run_pk(run_id), RUN_SK, run, if_absent=True, gsi=gsi)
        return run, True

    def transition(self, run_id: str, expected_status: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply `changes` if the run is still `expected_status`; raises `ConditionFailed`."""
        return self.repo.update(_run_pk(run_id), RUN_SK, changes, expected={"status": expected_status})

    def page(self, *, limit: int, cursor: str | None) -> Page:
        return self.repo.query(("RUNS",), index=RUNS_INDEX, limit=limit, cursor=cursor, newest_first=True)
