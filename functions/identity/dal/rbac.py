"""Writes for custom roles and teams, as transaction operations (reads are on `WorkspaceStore`).

Keys (see `dal.store`):
* `T#<t>#ROLES` / `role#<role_id>`       the role: name, description, permissions, version
* `T#<t>#ROLES` / `name#<casefolded>`    the claim on a role's name (unique per workspace)
* `T#<t>#TEAMS` / `team#<team_id>`       the team: name, description, roles, version
* `T#<t>#TEAMS` / `name#<casefolded>`    the claim on a team's name
* `T#<t>#TEAM#<team_id>` / `member#<u>`  a team membership: team_role, added_at, version
* `T#<t>#MEMBERS` / `member#<u>`         the member row, whose `teams` map mirrors the memberships

Every row carries `version`; every change is conditional on the version that was read, so two
concurrent edits make one of them fail (409) instead of one silently overwriting the other. Names
are unique through claim rows written with `attribute_not_exists` in the same transaction as the
row they name, which holds under races (two creates of "Auditors" → one 409).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.identity.dal.store import MEMBERS_PK, ROLES_PK, TEAMS_PK, WorkspaceStore
from ninefold_core.dynamo import serialize


def name_key(name: str) -> str:
    return "name#" + " ".join(name.split()).casefold()


def _versioned(attributes: Mapping[str, Any], version: int) -> dict[str, Any]:
    return {**attributes, "version": version + 1}


class RbacWrites:
    """Operations over one workspace's roles, teams and team memberships."""

    def __init__(self, store: WorkspaceStore) -> None:
        self.store = store
        self.repo = store.repo

    # --- roles -----------------------------------------------------------------------------

    def create_role_ops(self, role: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            self.repo.put_op(ROLES_PK, name_key(role["name"]), {"role_id": role["role_id"]}, if_absent=True),
            self.repo.put_op(ROLES_PK, f"role#{role['role_id']}", role, if_absent=True),
        ]

    def update_role_ops(self, current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[dict[str, Any]]:
        role_id = current["role_id"]
        ops = [
            self.repo.update_op(
                ROLES_PK,
                f"role#{role_id}",
                _versioned(changes, current["version"]),
                expected={"version": current["version"]},
            )
        ]
        if "name" in changes and name_key(changes["name"]) != name_key(current["name"]):
            ops += self._move_name_ops(ROLES_PK, current["name"], changes["name"], {"role_id": role_id})
        return ops

    def delete_role_ops(self, current: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            self.repo.delete_op(ROLES_PK, f"role#{current['role_id']}", expected={"version": current["version"]}),
            self.repo.delete_op(ROLES_PK, name_key(current["name"]), expected={"role_id": current["role_id"]}),
        ]

    # --- teams -----------------------------------------------------------------------------

    def create_team_ops(self, team: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            self.repo.put_op(TEAMS_PK, name_key(team["name"]), {"team_id": team["team_id"]}, if_absent=True),
            self.repo.put_op(TEAMS_PK, f"team#{team['team_id']}", team, if_absent=True),
        ]

    def update_team_ops(self, current: Mapping[str, Any], changes: Mapping[str, Any]) -> list[dict[str, Any]]:
        team_id = current["team_id"]
        ops = [
            self.repo.update_op(
                TEAMS_PK,
                f"team#{team_id}",
                _versioned(changes, current["version"]),
                expected={"version": current["version"]},
            )
        ]
        if "name" in changes and name_key(changes["name"]) != name_key(current["name"]):
            ops += self._move_name_ops(TEAMS_PK, current["name"], changes["name"], {"team_id": team_id})
        return ops

    def delete_team_ops(self, current: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            self.repo.delete_op(TEAMS_PK, f"team#{current['team_id']}", expected={"version": current["version"]}),
            self.repo.delete_op(TEAMS_PK, name_key(current["name"]), expected={"team_id": current["team_id"]}),
        ]

    def team_exists_op(self, team_id: str) -> dict[str, Any]:
        """Fails the transaction if the team was deleted meanwhile (no one joins a deleted team)."""
        return {
            "ConditionCheck": {
                "TableName": self.repo.table_name,
                "Key": serialize({"pk": self.repo.key(*TEAMS_PK), "sk": f"team#{team_id}"}),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    # --- team memberships ------------------------------------------------------------------

    def add_team_member_op(self, team_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.repo.put_op(("TEAM", team_id), f"member#{row['user_id']}", row, if_absent=True)

    def change_team_member_op(self, team_id: str, current: Mapping[str, Any], team_role: str) -> dict[str, Any]:
        return self.repo.update_op(
            ("TEAM", team_id),
            f"member#{current['user_id']}",
            _versioned({"team_role": team_role}, current["version"]),
            expected={"version": current["version"]},
        )

    def remove_team_member_op(self, team_id: str, current: Mapping[str, Any]) -> dict[str, Any]:
        return self.repo.delete_op(
            ("TEAM", team_id), f"member#{current['user_id']}", expected={"version": current["version"]}
        )

    def member_teams_op(self, member: Mapping[str, Any], teams: Mapping[str, str]) -> dict[str, Any]:
        """Replace the member row's `teams` map, if the row is still the version that was read."""
        version = member.get("version")
        if version is None:  # a row written before members were versioned
            op = self.repo.update_op(MEMBERS_PK, f"member#{member['user_id']}", {"teams": dict(teams), "version": 1})
            op["Update"]["ConditionExpression"] += " AND attribute_not_exists(#v)"
            op["Update"]["ExpressionAttributeNames"]["#v"] = "version"
            return op
        return self.store.update_member_op(member["user_id"], {"teams": dict(teams)}, int(version))

    # --- helpers ---------------------------------------------------------------------------

    def _move_name_ops(self, pk: tuple[str, ...], old: str, new: str, owner: Mapping[str, str]) -> list[dict[str, Any]]:
        return [
            self.repo.delete_op(pk, name_key(old), expected=owner),
            self.repo.put_op(pk, name_key(new), owner, if_absent=True),
        ]
