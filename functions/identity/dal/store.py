"""Identity's table. Tenant data (workspaces, members) and platform data (users, sessions, tokens).

Keys (pk / sk)
* `T#<tenant>#WORKSPACE` / `workspace`             the workspace itself
* `T#<tenant>#MEMBERS` / `member#<user_id>`        a membership: roles, teams, when it started
* `T#<tenant>#ROLES` / `role#<role_id>`            a custom role: its permissions
* `T#<tenant>#TEAMS` / `team#<team_id>`            a team: the workspace roles it grants its members
* `T#<tenant>#TEAM#<team_id>` / `member#<user_id>` a team membership and its team role (lead, member)
* `T#<tenant>#INVITES` / `invite#<invitation_id>`  an invitation: address, roles, state, expiry
* `T#<tenant>#OUTBOX#<event id>` / `event`         outbox rows (ADR 0006)
* `P#user#<user_id>` / `user`                      a person: email, password hash, generation
* `P#email#<normalised email>` / `email`           the unique index of addresses → user_id
* `P#session#<sha256(token)>` / `session`          a session, found by its token hash;
  gsi1: `P#user-sessions#<user_id>` / `session#<session_id>` lists a user's sessions
* `P#token#<sha256(token)>` / `<purpose>`          a one-time email token (verify-email, reset-password)
* `P#throttle#<policy>#<subject>` / `throttle`     failure counters (sign-in per account and IP, emails)
* `P#membership#<user_id>` / `ws#<tenant>`         the workspaces a user belongs to (written with the member row)
* `P#invite-token#<sha256(token)>` / `invite`      an invitation's emailed token → its workspace and id
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ninefold_core.dynamo import ConditionFailed, PlatformRepository, TenantRepository
from ninefold_core.events.envelope import Envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.tenant import TenantContext

WORKSPACE_PK = ("WORKSPACE",)
WORKSPACE_SK = "workspace"
MEMBERS_PK = ("MEMBERS",)
ROLES_PK = ("ROLES",)
TEAMS_PK = ("TEAMS",)
INVITES_PK = ("INVITES",)
SESSION_INDEX = "gsi1"
USER_SESSIONS_NAMESPACE = "user-sessions"


class WorkspaceStore:
    """One workspace's own rows: the workspace, its members, custom roles, teams and invitations."""

    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)
        self.memberships = PlatformRepository(table_name, "membership", self.repo.client)
        self.tenant_id = ctx.tenant_id

    def get(self, *, consistent: bool = False) -> dict[str, Any] | None:
        return self.repo.get(WORKSPACE_PK, WORKSPACE_SK, consistent=consistent)

    def create_op(self, workspace: dict[str, Any]) -> dict[str, Any]:
        return self.repo.put_op(WORKSPACE_PK, WORKSPACE_SK, workspace, if_absent=True)

    def rename_op(self, name: str, expected_version: int) -> dict[str, Any]:
        return self.update_op({"name": name}, expected_version)

    def update_op(self, changes: Mapping[str, Any], expected_version: int, **expected: Any) -> dict[str, Any]:
        """Change the workspace row if nobody else did since `expected_version` was read."""
        return self.repo.update_op(
            WORKSPACE_PK,
            WORKSPACE_SK,
            {**changes, "version": expected_version + 1},
            expected={"version": expected_version, **expected},
        )

    # --- members -------------------------------------------------------------------------------

    def member(self, user_id: str) -> dict[str, Any] | None:
        return self.repo.get(MEMBERS_PK, f"member#{user_id}", consistent=True)

    def members(self) -> Iterator[dict[str, Any]]:
        return self.repo.query_all(MEMBERS_PK, sk_prefix="member#")

    def add_member_ops(self, member: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The member row and the user's index entry; fails if they are already a member."""
        user_id = member["user_id"]
        return [
            self.repo.put_op(MEMBERS_PK, f"member#{user_id}", member, if_absent=True),
            self.memberships.put_op(
                (user_id,), f"ws#{self.tenant_id}", {"tenant_id": self.tenant_id, "joined_at": member["joined_at"]}
            ),
        ]

    def update_member_op(self, user_id: str, changes: Mapping[str, Any], expected_version: int) -> dict[str, Any]:
        return self.repo.update_op(
            MEMBERS_PK,
            f"member#{user_id}",
            {**changes, "version": expected_version + 1},
            expected={"version": expected_version},
        )

    def remove_member_ops(self, member: Mapping[str, Any]) -> list[dict[str, Any]]:
        user_id = member["user_id"]
        return [
            self.repo.delete_op(MEMBERS_PK, f"member#{user_id}", expected={"version": member["version"]}),
            self.memberships.delete_op((user_id,), f"ws#{self.tenant_id}"),
        ]

    # --- custom roles and teams ----------------------------------------------------------------

    def roles(self) -> Iterator[dict[str, Any]]:
        return self.repo.query_all(ROLES_PK, sk_prefix="role#")

    def role(self, role_id: str) -> dict[str, Any] | None:
        return self.repo.get(ROLES_PK, f"role#{role_id}", consistent=True)

    def teams(self) -> Iterator[dict[str, Any]]:
        return self.repo.query_all(TEAMS_PK, sk_prefix="team#")

    def team(self, team_id: str) -> dict[str, Any] | None:
        return self.repo.get(TEAMS_PK, f"team#{team_id}", consistent=True)

    def team_members(self, team_id: str) -> Iterator[dict[str, Any]]:
        return self.repo.query_all(("TEAM", team_id), sk_prefix="member#")

    # --- invitations ---------------------------------------------------------------------------

    def invitation(self, invitation_id: str) -> dict[str, Any] | None:
        return self.repo.get(INVITES_PK, f"invite#{invitation_id}", consistent=True)

    def invitations(self) -> Iterator[dict[str, Any]]:
        return self.repo.query_all(INVITES_PK, sk_prefix="invite#")


def workspaces_of(table_name: str, user_id: str, client: Any | None = None) -> list[str]:
    """The tenant ids of every workspace `user_id` belongs to (from the membership index)."""
    index = PlatformRepository(table_name, "membership", client)
    return [str(item["tenant_id"]) for item in index.query_all((user_id,), sk_prefix="ws#")]


class UserStore:
    """People, and the platform-wide unique index of their addresses."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, "user", client)
        self.emails = PlatformRepository(table_name, "email", client)

    def get(self, user_id: str) -> dict[str, Any] | None:
        return self.repo.get((user_id,), "user", consistent=True)

    def id_for_email(self, email: str) -> str | None:
        item = self.emails.get((email,), "email", consistent=True)
        return None if item is None else str(item["user_id"])

    def by_email(self, email: str) -> dict[str, Any] | None:
        user_id = self.id_for_email(email)
        return None if user_id is None else self.get(user_id)

    def create_ops(self, user: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Claim the address (fails the transaction if anyone has it) and write the user."""
        return [
            self.emails.put_op((user["email"],), "email", {"user_id": user["user_id"]}, if_absent=True),
            self.repo.put_op((user["user_id"],), "user", user, if_absent=True),
        ]

    def update_op(
        self, user_id: str, changes: Mapping[str, Any], *, expected: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.repo.update_op((user_id,), "user", changes, expected=expected)


class SessionStore:
    """Sessions by token hash, and per user through gsi1."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(
            table_name, "session", client, index_namespaces={SESSION_INDEX: USER_SESSIONS_NAMESPACE}
        )

    def get(self, token_hash: str) -> dict[str, Any] | None:
        # Consistent: a token is used the moment sign-in returns it.
        return self.repo.get((token_hash,), "session", consistent=True)

    def put_op(self, session: Mapping[str, Any], *, ttl: int) -> dict[str, Any]:
        return self.repo.put_op(
            (session["token_hash"],),
            "session",
            session,
            if_absent=True,
            gsi={SESSION_INDEX: ((session["user_id"],), f"session#{session['session_id']}")},
            ttl=ttl,
        )

    def delete_op(self, session: Mapping[str, Any]) -> dict[str, Any]:
        """Delete exactly this session: fails if it is already gone (or the hash names another)."""
        return self.repo.delete_op((session["token_hash"],), "session", expected={"session_id": session["session_id"]})

    def of_user(self, user_id: str) -> Iterator[dict[str, Any]]:
        return self.repo.query_all((user_id,), index=SESSION_INDEX, sk_prefix="session#")

    def find(self, user_id: str, session_id: str) -> dict[str, Any] | None:
        """One of *this user's* sessions by id: another user's id is simply not in the partition."""
        page = self.repo.query((user_id,), index=SESSION_INDEX, sk_prefix=f"session#{session_id}", limit=2)
        return next((s for s in page.items if s["session_id"] == session_id), None)

    def touch(self, session: Mapping[str, Any], *, now: int, ttl: int) -> bool:
        """Slide the idle window; False when another request already did (or the session is gone)."""
        try:
            self.repo.update(
                (session["token_hash"],),
                "session",
                {"last_seen_at": now, "ttl": ttl},
                expected={"last_seen_at": session["last_seen_at"]},
                return_item=False,  # the authorizer's role may touch these attributes, not read them back
            )
        except ConditionFailed:
            return False
        return True


class TokenStore:
    """One-time email tokens, by hash and purpose."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, "token", client)

    def get(self, token_hash: str, purpose: str) -> dict[str, Any] | None:
        return self.repo.get((token_hash,), purpose, consistent=True)

    def put_op(self, token_hash: str, purpose: str, attributes: Mapping[str, Any], *, ttl: int) -> dict[str, Any]:
        return self.repo.put_op((token_hash,), purpose, attributes, if_absent=True, ttl=ttl)

    def consume_op(self, token_hash: str, purpose: str, user_id: str) -> dict[str, Any]:
        # Conditional delete: of two requests racing with the same token, one transaction fails.
        return self.repo.delete_op((token_hash,), purpose, expected={"user_id": user_id})


class ThrottleStore:
    """Failure counters under `P#throttle#<policy>#<subject>`."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, "throttle", client)

    def get(self, policy: str, subject: str) -> dict[str, Any] | None:
        return self.repo.get((policy, subject), "throttle", consistent=True)

    def claim(self, policy: str, subject: str, *, stored: int | None, changes: Mapping[str, Any], ttl: int) -> bool:
        """Replace the counter that read `stored` failures (None: no item); False when a concurrent
        attempt changed it first."""
        try:
            if stored is None:
                self.repo.put((policy, subject), "throttle", changes, if_absent=True, ttl=ttl)
            else:
                self.repo.update((policy, subject), "throttle", {**changes, "ttl": ttl}, expected={"failures": stored})
        except ConditionFailed:
            return False
        return True

    def increment(self, policy: str, subject: str, *, now: int, ttl: int) -> int:
        return self.repo.increment((policy, subject), "throttle", "failures", changes={"last_failure_at": now}, ttl=ttl)

    def clear_op(self, policy: str, subject: str) -> dict[str, Any]:
        return self.repo.delete_op((policy, subject), "throttle")

    def clear(self, policy: str, subject: str) -> None:
        self.repo.delete((policy, subject), "throttle")


@dataclass
class IdentityDb:
    """Every store of identity's table over one client, plus the outbox and transactions."""

    table_name: str
    client: Any | None = None
    users: UserStore = field(init=False)
    sessions: SessionStore = field(init=False)
    tokens: TokenStore = field(init=False)
    throttles: ThrottleStore = field(init=False)

    def __post_init__(self) -> None:
        self.users = UserStore(self.table_name, self.client)
        self.sessions = SessionStore(self.table_name, self.client)
        self.tokens = TokenStore(self.table_name, self.client)
        self.throttles = ThrottleStore(self.table_name, self.client)

    def workspace(self, ctx: TenantContext) -> WorkspaceStore:
        return WorkspaceStore(self.table_name, ctx, self.users.repo.client)

    def event_op(self, envelope: Envelope[Any]) -> dict[str, Any]:
        """The outbox row for `envelope`, in its own tenant's partition."""
        owner = TenantContext(tenant_id=envelope.tenant_id, user_id="system:identity", auth_method="system")
        return outbox_op(TenantRepository(self.table_name, owner, self.users.repo.client), envelope)

    def transact(self, operations: list[dict[str, Any]]) -> None:
        self.users.repo.transact(operations)
