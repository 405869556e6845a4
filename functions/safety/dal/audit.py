"""The audit log in safety's table.

Keys
* `T#<tenant>#AUDIT` / `<occurred_at>#<event_id>`   time-ordered listing
* `T#<tenant>#AUDITID#<event_id>` / `audit`         lookup by id

Both items are written in one transaction, conditional on absence, so recording
the same event twice is a no-op at the data level too (beyond the consumer's
idempotency record).
"""

from __future__ import annotations

from typing import Any

from ninefold_core.dynamo import ConditionFailed, Page, TenantRepository
from ninefold_core.tenant import TenantContext

LOG_PK = ("AUDIT",)


class AuditStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    def record(self, entry: dict[str, Any]) -> bool:
        """Write the entry; False when it was already recorded."""
        sort_key = f"{entry['occurred_at']}#{entry['id']}"
        try:
            self.repo.transact(
                [
                    self.repo.put_op(LOG_PK, sort_key, entry, if_absent=True),
                    self.repo.put_op(("AUDITID", entry["id"]), "audit", {"sort_key": sort_key}, if_absent=True),
                ]
            )
        except ConditionFailed:
            return False
        return True

    def get(self, event_id: str) -> dict[str, Any] | None:
        pointer = self.repo.get(("AUDITID", event_id), "audit")
        if pointer is None:
            return None
        return self.repo.get(LOG_PK, pointer["sort_key"])

    def page(self, *, limit: int, cursor: str | None) -> Page:
        return self.repo.query(LOG_PK, limit=limit, cursor=cursor, newest_first=True)
