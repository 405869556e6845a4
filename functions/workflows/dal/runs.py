"""Workflows' reads of run state beyond one run: the operators' cross-tenant index. The run
store itself (keys, transitions) is the core job runtime's: `ninefold_core.jobs.store`."""

from __future__ import annotations

from typing import Any

from ninefold_core.dynamo import Page, PlatformRepository
from ninefold_core.jobs.store import FAILED, FAILED_INDEX, PLATFORM_NAMESPACE


class AdminRunStore:
    """Operators' read across tenants: the sparse index of failed runs (gsi5), newest failure first.
    Only for routes that checked `platform:operate`."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, PLATFORM_NAMESPACE, client)

    def failed(self, *, limit: int, cursor: str | None) -> Page:
        return self.repo.query(FAILED, index=FAILED_INDEX, limit=limit, cursor=cursor, newest_first=True)
