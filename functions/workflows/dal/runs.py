"""Workflows' run state beyond the core job runtime's store (`ninefold_core.jobs.store`, which
owns keys and transitions): the operators' cross-tenant index, and the read model of the runs
other systems own."""

from __future__ import annotations

from typing import Any

from ninefold_core.dynamo import Page, PlatformRepository, deserialize, serialize
from ninefold_core.jobs.store import FAILED, FAILED_INDEX, PLATFORM_NAMESPACE, REVISION, RUN_SK, RunStore
from ninefold_core.tenant import TenantContext


class AdminRunStore:
    """Operators' read across tenants: the sparse index of failed runs (gsi5), newest failure first.
    Only for routes that checked `platform:operate`."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, PLATFORM_NAMESPACE, client)

    def failed(self, *, limit: int, cursor: str | None) -> Page:
        return self.repo.query(FAILED, index=FAILED_INDEX, limit=limit, cursor=cursor, newest_first=True)


# Read-model rows of runs other systems own carry this kind (never the runtime's `job_run`, so
# workflows' own stream relay does not announce them again as workflows' runs).
VIEW_KIND = "job_run_view"


class RunViews:
    """The read model of runs other systems' job runtimes own (ADR 0014): one row per run at the
    run's own key, listed by the same indexes as workflows' runs, so `GET /runs` and the console
    show every system's runs. Written only from `job_run.changed`, keeping the highest revision."""

    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.store = RunStore(table_name, ctx, client)

    def apply(self, run: dict[str, Any]) -> bool:
        """Store the snapshot unless a newer revision of the run is already here (events arrive
        out of order and twice); True when it was stored. A run of workflows' own is never
        overwritten (the snapshot of a run with its id from elsewhere is refused)."""
        repo = self.store.repo
        item = {**run, "kind": VIEW_KIND, "tenant_id": repo.ctx.tenant_id} | self.store.listing_keys(run)
        request = repo.put_op(("RUN", str(run["run_id"])), RUN_SK, {})["Put"]
        request["Item"] = serialize(deserialize(request["Item"]) | item)
        request["ConditionExpression"] = "attribute_not_exists(pk) OR (#kind = :view AND #rev < :rev)"
        request["ExpressionAttributeNames"] = {"#kind": "kind", "#rev": REVISION}
        request["ExpressionAttributeValues"] = serialize({":view": VIEW_KIND, ":rev": int(run[REVISION])})
        try:
            repo.client.put_item(**request)
        except repo.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
