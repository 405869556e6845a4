"""`python -m scripts.grant_platform_role`: the operator's way to make platform admins (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions
from functions.identity.seed import SeededUser
from scripts import grant_platform_role
from tests.unit.identity.conftest import events

POLICY = sessions.SessionPolicy()


def test_granting_and_revoking_a_role_changes_the_users_platform_permissions(
    owner: SeededUser, db: IdentityDb, identity_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def permissions() -> frozenset[str]:
        found = sessions.authenticate(owner.token, db, POLICY)
        assert found is not None
        return found.ctx.permissions

    assert not any(p.startswith("platform:") for p in permissions())

    code = grant_platform_role.main(["--email", owner.email.upper(), "--role", "admin", "--table", identity_env])
    assert code == 0
    assert "admin granted" in capsys.readouterr().out
    assert db.users.get(owner.user_id)["platform_roles"] == ["admin"]  # type: ignore[index]
    assert {"platform:impersonate", "platform:users", "platform:operate"} <= permissions()
    [granted] = events(identity_env, "user.platform_role_granted")
    assert granted["data"] == {"user_id": owner.user_id, "role": "admin"}
    assert granted["metadata"]["tenant_id"] == owner.tenant_id

    # Granting again changes nothing (no second event).
    assert grant_platform_role.main(["--email", owner.email, "--role", "admin", "--table", identity_env]) == 0
    assert "nothing to change" in capsys.readouterr().out
    assert len(events(identity_env, "user.platform_role_granted")) == 1

    assert grant_platform_role.main(["--email", owner.email, "--role", "operator", "--table", identity_env]) == 0
    assert db.users.get(owner.user_id)["platform_roles"] == ["admin", "operator"]  # type: ignore[index]

    code = grant_platform_role.main(["--email", owner.email, "--role", "admin", "--revoke", "--table", identity_env])
    assert code == 0
    assert db.users.get(owner.user_id)["platform_roles"] == ["operator"]  # type: ignore[index]
    assert "platform:impersonate" not in permissions()
    assert "platform:operate" in permissions()
    [revoked] = events(identity_env, "user.platform_role_revoked")
    assert revoked["data"] == {"user_id": owner.user_id, "role": "admin"}


def test_the_table_comes_from_table_name(
    owner: SeededUser, db: IdentityDb, identity_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TABLE_NAME", identity_env)
    assert grant_platform_role.main(["--email", owner.email, "--role", "operator"]) == 0
    assert db.users.get(owner.user_id)["platform_roles"] == ["operator"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@example.com", "no user"), ("not-an-address", "not a valid email")],
)
def test_unknown_or_invalid_addresses_fail_without_writing(
    owner: SeededUser, identity_env: str, capsys: pytest.CaptureFixture[str], email: str, message: str
) -> None:
    assert grant_platform_role.main(["--email", email, "--role", "admin", "--table", identity_env]) == 1
    assert message in capsys.readouterr().err
    assert events(identity_env, "user.platform_role_granted") == []


def test_unknown_roles_are_refused(owner: SeededUser, db: IdentityDb, identity_env: str) -> None:
    with pytest.raises(SystemExit):
        grant_platform_role.main(["--email", owner.email, "--role", "owner", "--table", identity_env])
    with pytest.raises(grant_platform_role.GrantError):
        grant_platform_role.set_role(db, owner.email, "superuser")


def test_a_concurrent_change_fails_rather_than_being_undone(owner: SeededUser, db: IdentityDb) -> None:
    from ninefold_core.dynamo import ConditionFailed

    grant_platform_role.set_role(db, owner.email, "operator")
    stale: dict[str, Any] = db.users.get(owner.user_id) or {}
    db.users.repo.update((owner.user_id,), "user", {"platform_roles": ["operator", "admin"]})
    original = db.users.by_email
    db.users.by_email = lambda email: stale  # type: ignore[method-assign]
    try:
        with pytest.raises(ConditionFailed):
            grant_platform_role.set_role(db, owner.email, "operator", revoke=True)
    finally:
        db.users.by_email = original  # type: ignore[method-assign]
    assert db.users.get(owner.user_id)["platform_roles"] == ["operator", "admin"]  # type: ignore[index]
