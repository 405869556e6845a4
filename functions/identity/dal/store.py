"""Identity's table: workspaces and members (tenant data), sessions (platform data).

Keys
* `T#<tenant>#WORKSPACE` / `workspace`            the workspace itself
* `T#<tenant>#MEMBER#<user_id>` / `member`        a membership and its roles
* `P#session#<sha256(token)>` / `session`         a session, found by its token hash
"""

from __future__ import annotations

from typing import Any

from ninefold_core.dynamo import PlatformRepository, TenantRepository
from ninefold_core.tenant import TenantContext

WORKSPACE_PK = ("WORKSPACE",)
WORKSPACE_SK = "workspace"


class WorkspaceStore:
    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)

    def get(self) -> dict[str, Any] | None:
        return self.repo.get(WORKSPACE_PK, WORKSPACE_SK)

    def create_op(self, workspace: dict[str, Any]) -> dict[str, Any]:
        return self.repo.put_op(WORKSPACE_PK, WORKSPACE_SK, workspace, if_absent=True)

    def rename_op(self, name: str, expected_version: int) -> dict[str, Any]:
        return self.repo.update_op(
            WORKSPACE_PK,
            WORKSPACE_SK,
            {"name": name, "version": expected_version + 1},
            expected={"version": expected_version},
        )

    def member(self, user_id: str) -> dict[str, Any] | None:
        return self.repo.get(("MEMBER", user_id), "member")

    def add_member_op(self, user_id: str, roles: list[str]) -> dict[str, Any]:
        return self.repo.put_op(("MEMBER", user_id), "member", {"user_id": user_id, "roles": roles}, if_absent=True)


class SessionStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, "session", client)

    def get(self, token_hash: str) -> dict[str, Any] | None:
        return self.repo.get((token_hash,), "session")

    def put(self, token_hash: str, session: dict[str, Any], *, expires_at: int) -> None:
        self.repo.put((token_hash,), "session", session, if_absent=True, ttl=expires_at)
