"""Purging deleted workspaces once their grace window has passed.

Deleting a workspace (`workspaces.delete`) marks it deleted and files it under the day its grace
window ends: `P#purge#<YYYY-MM-DD>` / `ws#<tenant_id>`; restoring removes that entry. The daily
platform job `identity.sweep_purges` looks at the last `LOOKBACK_DAYS` days and enqueues one
`identity.purge_workspace` job per entry whose `purge_at` has passed (`jobs/purge.py`; one
idempotency key per deletion, so two sweeps make one run). The job, run by identity's job worker
with retries and a dead-letter queue, deletes everything identity holds for a workspace that is
still deleted:

* its members and each person's entry in the membership index,
* custom roles, teams and team memberships,
* invitations and the tokens of their links,
* API keys and their lookup rows,
* the workspace row itself, then the purge entry.

Then `workspace.purged` goes out so that every other system deletes the tenant's data it owns
(each system purges its own table; none reaches into another's). Every step is an unconditional,
idempotent delete and the purge entry goes last, so a crash half-way is finished by the next run.
Sessions in the workspace already stopped working at deletion; their rows expire by TTL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from functions.identity.dal.api_keys import API_KEYS_PK, LOOKUP_SK, ApiKeyLookup
from functions.identity.dal.store import (
    INVITES_PK,
    MEMBERS_PK,
    ROLES_PK,
    TEAMS_PK,
    WORKSPACE_PK,
    IdentityDb,
    WorkspaceStore,
)
from functions.identity.logic.access import store_for
from ninefold_core.dynamo import PlatformRepository
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import WorkspacePurged
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

NAMESPACE = "purge"
LOOKBACK_DAYS = 7
DAY_FORMAT = "%Y-%m-%d"


def _due_index(db: IdentityDb) -> PlatformRepository:
    return PlatformRepository(db.table_name, NAMESPACE, db.users.repo.client)


def _day(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime(DAY_FORMAT)


def schedule_op(db: IdentityDb, tenant_id: str, purge_at: int) -> dict[str, object]:
    """File the workspace under the day its grace window ends (in the deletion's transaction)."""
    return _due_index(db).put_op((_day(purge_at),), f"ws#{tenant_id}", {"tenant_id": tenant_id, "purge_at": purge_at})


def unschedule_op(db: IdentityDb, tenant_id: str, purge_at: int) -> dict[str, object]:
    """Take it off that day (in the restore's transaction)."""
    return _due_index(db).delete_op((_day(purge_at),), f"ws#{tenant_id}")


@dataclass(frozen=True)
class Purged:
    tenant_id: str
    rows: int


@dataclass(frozen=True)
class Due:
    """A deleted workspace whose grace window has ended, as filed on its day."""

    tenant_id: str
    purge_at: int
    day: str


def due(db: IdentityDb, *, now: dt.datetime) -> list[Due]:
    """The entries whose grace window ended by `now` (looking `LOOKBACK_DAYS` back), oldest day first."""
    index = _due_index(db)
    found: list[Due] = []
    for back in range(LOOKBACK_DAYS, -1, -1):
        day = (now - dt.timedelta(days=back)).strftime(DAY_FORMAT)
        for entry in index.query_all((day,), sk_prefix="ws#"):
            tenant_id, purge_at = str(entry["tenant_id"]), int(entry["purge_at"])
            if purge_at <= now.timestamp():
                found.append(Due(tenant_id=tenant_id, purge_at=purge_at, day=day))
    return found


def purge_workspace(db: IdentityDb, entry: Due) -> Purged | None:
    """Purge one workspace of `entry` if it is still the deletion that entry filed; None when it
    was restored or deleted again later (the entry is dropped) or was purged already."""
    index = _due_index(db)
    tenant_id = entry.tenant_id
    if index.get((entry.day,), f"ws#{tenant_id}", consistent=True) is None:
        return None  # done by an earlier attempt (the entry goes last)
    store = store_for(db.table_name, tenant_id, db.users.repo.client)
    workspace = store.get(consistent=True)
    superseded = workspace is not None and (
        workspace.get("status") != "deleted" or int(workspace["purge_at"]) > entry.purge_at
    )
    if superseded:  # restored, or deleted again later with a later date: not this entry's business
        index.delete((entry.day,), f"ws#{tenant_id}")
        return None
    rows = _purge(db, store) if workspace is not None else 0
    ctx = TenantContext.system(tenant_id, "identity")
    db.transact([outbox_op(store.repo, new_envelope(WorkspacePurged(workspace_id=tenant_id), ctx))])
    index.delete((entry.day,), f"ws#{tenant_id}")
    logger.info("workspace purged", extra={"tenant_id": tenant_id, "rows": rows})
    return Purged(tenant_id=tenant_id, rows=rows)


def _purge(db: IdentityDb, store: WorkspaceStore) -> int:
    repo, tenant_id = store.repo, store.tenant_id
    deleted = 0
    # First what points into the workspace from outside it: index entries, link tokens, key lookups.
    for member in list(store.members()):
        store.memberships.delete((member["user_id"],), f"ws#{tenant_id}")
        deleted += 1
    invite_tokens = PlatformRepository(db.table_name, "invite-token", repo.client)
    for invitation in list(store.invitations()):
        if invitation.get("token_hash"):
            invite_tokens.delete((invitation["token_hash"],), "invite")
            deleted += 1
    lookups = ApiKeyLookup(db.table_name, repo.client)
    for key in list(repo.query_all(API_KEYS_PK, sk_prefix="key#")):
        if key.get("token_hash"):
            lookups.repo.delete((key["token_hash"],), LOOKUP_SK)
            deleted += 1
    # Then the workspace's own partitions, the workspace row last.
    for team in list(store.teams()):
        deleted += repo.delete_partition(("TEAM", team["team_id"]))
    for partition in (MEMBERS_PK, ROLES_PK, TEAMS_PK, INVITES_PK, API_KEYS_PK, WORKSPACE_PK):
        deleted += repo.delete_partition(partition)
    return deleted
