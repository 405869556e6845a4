"""Teams: groups of workspace members that share the roles the team grants.

* A team's `roles` (built-in or custom) are granted to every member of the team, at their next
  request (`logic.access.resolve` reads the member's `teams` map and the teams' roles).
* Changing who holds a role through a team — creating or deleting the team, changing its roles,
  adding or removing a member — needs the caller to be able to grant each role involved
  (`access.can_grant`): no one hands out, or takes away, more than they hold.
* `teams:manage` manages every team. A team's `lead` manages that team's membership (add,
  remove, lead/member) but not its name, roles or existence, and no other team.
* A membership is two rows written in one transaction with version checks: the team's
  `TEAM#<id>` / `member#<user>` row and the `teams` map on the member row.
* Deleting a team deletes its row first (the roles it granted stop counting at once), then
  removes the memberships `CLEANUP_CHUNK` members per transaction. If that clean-up stops half
  way, the leftovers name a team that no longer exists, which grants nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.identity.dal.rbac import RbacWrites, name_key
from functions.identity.dal.store import TEAMS_PK, WorkspaceStore
from functions.identity.logic.access import can_grant
from functions.identity.models.rbac import (
    CreateTeam,
    SetTeamMember,
    Team,
    TeamList,
    TeamMember,
    TeamMemberList,
    UpdateTeam,
)
from functions.identity.models.roles import BUILT_IN_ROLES
from ninefold_core.dynamo import ConditionFailed
from ninefold_core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ninefold_core.events import new_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.schemas.identity import (
    TeamCreated,
    TeamDeleted,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamMemberRoleChanged,
    TeamUpdated,
)
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

LEAD = "lead"
# Per clean-up transaction: the team membership row, the member row and the event (3 x 25 <= 100).
CLEANUP_CHUNK = 25


def new_team_id() -> str:
    return "team_" + secrets.token_hex(10)


def _now(now: datetime | None) -> str:
    return (now or datetime.now(UTC)).isoformat()


def _team(item: Mapping[str, Any]) -> Team:
    return Team(
        team_id=item["team_id"],
        name=item["name"],
        description=item.get("description"),
        roles=list(item.get("roles") or []),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        version=item["version"],
    )


def _load(store: WorkspaceStore, team_id: str) -> dict[str, Any]:
    item = store.team(team_id)
    if item is None:
        raise NotFound("This team does not exist.")
    return item


def listing(store: WorkspaceStore) -> TeamList:
    return TeamList(items=sorted((_team(t) for t in store.teams()), key=lambda t: t.name.casefold()))


def get(store: WorkspaceStore, team_id: str) -> Team:
    return _team(_load(store, team_id))


def _check_grantable(ctx: TenantContext, store: WorkspaceStore, roles: Iterable[str], *, new: bool = False) -> None:
    """403 unless the caller may grant (or take away) every role in `roles`.

    `new`: the roles are being named by the caller, so an unknown one is a 422. Otherwise they are
    already on the team, and one that no longer exists (a deleted custom role) grants nothing,
    so it is skipped.
    """
    roles = list(dict.fromkeys(roles))
    if not roles:
        return
    refused = can_grant(ctx, store, roles)
    unknown = [r for r in refused if r not in BUILT_IN_ROLES and store.role(r) is None]
    if not new:
        refused = [r for r in refused if r not in unknown]
    elif unknown:
        message = f"No such role in this workspace: {', '.join(unknown)}."
        raise InvalidInput(message, extensions={"errors": [{"field": "roles", "message": message, "type": "unknown"}]})
    if refused:
        raise Forbidden(
            "You cannot grant or take away roles that carry permissions you do not hold.",
            extensions={"refused_roles": refused},
        )


def _check_name_free(store: WorkspaceStore, name: str, team_id: str | None = None) -> None:
    claim = store.repo.get(TEAMS_PK, name_key(name), consistent=True)
    if claim is not None and claim.get("team_id") != team_id:
        raise Conflict(f"A team named {name!r} already exists in this workspace.")


def create(ctx: TenantContext, store: WorkspaceStore, body: CreateTeam, *, now: datetime | None = None) -> Team:
    _check_grantable(ctx, store, body.roles, new=True)
    _check_name_free(store, body.name)
    at = _now(now)
    item = {
        "team_id": new_team_id(),
        "name": body.name,
        "description": body.description,
        "roles": body.roles,
        "created_at": at,
        "updated_at": at,
        "created_by": ctx.user_id,
        "version": 1,
    }
    event = new_envelope(TeamCreated(team_id=item["team_id"], name=body.name, roles=body.roles), ctx)
    store.repo.transact([*RbacWrites(store).create_team_ops(item), outbox_op(store.repo, event)])
    return _team(item)


def update(
    ctx: TenantContext, store: WorkspaceStore, team_id: str, body: UpdateTeam, *, now: datetime | None = None
) -> Team:
    current = _load(store, team_id)
    old_roles = list(current.get("roles") or [])
    changes: dict[str, Any] = {}
    if body.roles is not None and body.roles != old_roles:
        # What changes hands: the roles added and the roles taken away.
        _check_grantable(ctx, store, [r for r in body.roles if r not in old_roles], new=True)
        _check_grantable(ctx, store, [r for r in old_roles if r not in body.roles])
        changes["roles"] = body.roles
    if body.name is not None and body.name != current["name"]:
        _check_name_free(store, body.name, team_id)
        changes["name"] = body.name
    if "description" in body.model_fields_set and body.description != current.get("description"):
        changes["description"] = body.description
    if not changes:
        return _team(current)
    changes["updated_at"] = _now(now)
    updated = {**current, **changes, "version": current["version"] + 1}
    event = new_envelope(
        TeamUpdated(team_id=team_id, name=updated["name"], roles=updated["roles"], old_roles=old_roles), ctx
    )
    store.repo.transact([*RbacWrites(store).update_team_ops(current, changes), outbox_op(store.repo, event)])
    return _team(updated)


def delete(ctx: TenantContext, store: WorkspaceStore, team_id: str) -> None:
    current = _load(store, team_id)
    _check_grantable(ctx, store, current.get("roles") or [])
    writes = RbacWrites(store)
    event = new_envelope(TeamDeleted(team_id=team_id, name=current["name"]), ctx)
    # First the team itself: from this commit on, it grants nothing and no one can join it.
    store.repo.transact([*writes.delete_team_ops(current), outbox_op(store.repo, event)])
    _remove_all_members(ctx, store, team_id)


def _remove_all_members(ctx: TenantContext, store: WorkspaceStore, team_id: str) -> None:
    rows = list(store.team_members(team_id))
    writes = RbacWrites(store)
    for start in range(0, len(rows), CLEANUP_CHUNK):
        ops: list[dict[str, Any]] = []
        for row in rows[start : start + CLEANUP_CHUNK]:
            ops.append(writes.remove_team_member_op(team_id, row))
            member = store.member(row["user_id"])
            if member is not None and team_id in (member.get("teams") or {}):
                teams = {k: v for k, v in member["teams"].items() if k != team_id}
                ops.append(writes.member_teams_op(member, teams))
            removed = TeamMemberRemoved(team_id=team_id, user_id=row["user_id"], reason="team-deleted")
            ops.append(outbox_op(store.repo, new_envelope(removed, ctx)))
        try:
            store.repo.transact(ops)
        except ConditionFailed:
            # A member row changed meanwhile: the rest is stale but harmless (the team is gone).
            logger.warning("team clean-up left stale memberships", extra={"team_id": team_id})


# --- membership -------------------------------------------------------------------------------


def _may_manage_members(ctx: TenantContext, store: WorkspaceStore, team_id: str) -> None:
    if ctx.can("teams:manage"):
        return
    own = store.repo.get(("TEAM", team_id), f"member#{ctx.user_id}", consistent=True)
    if own is None or own.get("team_role") != LEAD:
        raise Forbidden(
            "Only a lead of this team, or someone with teams:manage, can change its members.",
            extensions={"missing_permissions": ["teams:manage"]},
        )


def _team_member(item: Mapping[str, Any]) -> TeamMember:
    return TeamMember(user_id=item["user_id"], team_role=item["team_role"], added_at=item["added_at"])


def members(store: WorkspaceStore, team_id: str) -> TeamMemberList:
    _load(store, team_id)
    return TeamMemberList(items=[_team_member(m) for m in store.team_members(team_id)])


def set_member(
    ctx: TenantContext,
    store: WorkspaceStore,
    team_id: str,
    user_id: str,
    body: SetTeamMember,
    *,
    now: datetime | None = None,
) -> TeamMember:
    """Add `user_id` to the team, or change their team role."""
    team = _load(store, team_id)
    _may_manage_members(ctx, store, team_id)
    member = store.member(user_id)
    if member is None:
        raise NotFound("This person is not a member of the workspace.")
    writes = RbacWrites(store)
    current = store.repo.get(("TEAM", team_id), f"member#{user_id}", consistent=True)
    if current is not None:
        if current["team_role"] == body.team_role:
            return _team_member(current)
        changed = TeamMemberRoleChanged(
            team_id=team_id, user_id=user_id, old_team_role=current["team_role"], new_team_role=body.team_role
        )
        teams = {**(member.get("teams") or {}), team_id: body.team_role}
        store.repo.transact(
            [
                writes.change_team_member_op(team_id, current, body.team_role),
                writes.member_teams_op(member, teams),
                outbox_op(store.repo, new_envelope(changed, ctx)),
            ]
        )
        return _team_member({**current, "team_role": body.team_role})
    # Joining the team hands its roles to the new member.
    _check_grantable(ctx, store, team.get("roles") or [])
    row = {"user_id": user_id, "team_id": team_id, "team_role": body.team_role, "added_at": _now(now), "version": 1}
    teams = {**(member.get("teams") or {}), team_id: body.team_role}
    added = TeamMemberAdded(team_id=team_id, user_id=user_id, team_role=body.team_role)
    store.repo.transact(
        [
            writes.team_exists_op(team_id),
            writes.add_team_member_op(team_id, row),
            writes.member_teams_op(member, teams),
            outbox_op(store.repo, new_envelope(added, ctx)),
        ]
    )
    return _team_member(row)


def remove_member(ctx: TenantContext, store: WorkspaceStore, team_id: str, user_id: str) -> None:
    team = _load(store, team_id)
    _may_manage_members(ctx, store, team_id)
    current = store.repo.get(("TEAM", team_id), f"member#{user_id}", consistent=True)
    if current is None:
        raise NotFound("This person is not a member of the team.")
    # Leaving the team takes its roles away.
    _check_grantable(ctx, store, team.get("roles") or [])
    writes = RbacWrites(store)
    ops = [writes.remove_team_member_op(team_id, current)]
    member = store.member(user_id)
    if member is not None and team_id in (member.get("teams") or {}):
        ops.append(writes.member_teams_op(member, {k: v for k, v in member["teams"].items() if k != team_id}))
    removed = TeamMemberRemoved(team_id=team_id, user_id=user_id)
    store.repo.transact([*ops, outbox_op(store.repo, new_envelope(removed, ctx))])
