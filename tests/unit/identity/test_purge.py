"""Deleted workspaces are purged after their grace window: identity's rows go, `workspace.purged`
goes out, a restored workspace is left alone, and a half-finished purge is finished next time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb, workspaces_of
from functions.identity.handlers import purger
from functions.identity.logic import purge
from functions.identity.seed import SeededUser
from tests.unit.identity.conftest import events, scan
from tests.unit.identity.test_workspaces_members import Caller, join_new


def tenant_rows(table: str, tenant_id: str) -> list[dict[str, Any]]:
    return [i for i in scan(table) if str(i["pk"]).startswith(f"T#{tenant_id}#") and i.get("kind") != "outbox"]


def delete_workspace(acme: Caller) -> tuple[dict[str, Any], Caller]:
    acme("POST", "/api/v1/workspaces", {"name": "Elsewhere"})
    deleted = acme("DELETE", "/api/v1/workspace")
    assert deleted.status == 200, deleted.body
    return deleted.body, Caller(deleted.body["token"], acme.lambda_context)


def after(body: dict[str, Any], days: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(body["purge_at"]) + dt.timedelta(days=days, seconds=1)


def test_a_deleted_workspace_is_purged_after_its_grace_window(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    acme = Caller(owner.token, lambda_context)
    bob = join_new(identity_env, acme, "bob@example.com", lambda_context, ["admin"])
    acme("POST", "/api/v1/teams", {"name": "Ops", "roles": []})
    acme("POST", "/api/v1/roles", {"name": "Auditor", "permissions": ["audit:read"]})
    acme("POST", "/api/v1/invitations", {"email": "carol@example.com"})
    body, _ = delete_workspace(acme)
    db = IdentityDb(identity_env)

    assert purge.run(db, now=after(body) - dt.timedelta(days=1)) == []  # still in its grace window
    assert tenant_rows(identity_env, owner.tenant_id)

    (done,) = purge.run(db, now=after(body))
    assert done.tenant_id == owner.tenant_id
    assert tenant_rows(identity_env, owner.tenant_id) == []
    assert owner.tenant_id not in workspaces_of(identity_env, owner.user_id)
    assert not any(str(i["pk"]).startswith("P#invite-token#") for i in scan(identity_env))
    assert [e["data"] for e in events(identity_env, "workspace.purged")] == [{"workspace_id": owner.tenant_id}]
    assert not bob.allowed
    assert purge.run(db, now=after(body, days=1)) == []  # nothing left to do


def test_a_restored_workspace_is_not_purged(identity_env: str, owner: SeededUser, lambda_context: Any) -> None:
    acme = Caller(owner.token, lambda_context)
    body, moved = delete_workspace(acme)
    assert moved("POST", f"/api/v1/workspaces/{owner.tenant_id}/restore").status == 200
    assert purge.run(IdentityDb(identity_env), now=after(body)) == []
    assert any(i["sk"] == "workspace" for i in tenant_rows(identity_env, owner.tenant_id))


def test_a_purge_cut_short_is_finished_by_the_next_run(
    identity_env: str, owner: SeededUser, lambda_context: Any, monkeypatch: Any
) -> None:
    acme = Caller(owner.token, lambda_context)
    join_new(identity_env, acme, "bob@example.com", lambda_context)
    body, _ = delete_workspace(acme)
    db = IdentityDb(identity_env)
    original = purge._purge

    def crash(db: IdentityDb, store: Any) -> int:
        store.repo.delete(("MEMBERS",), "member#usr_owner")
        raise RuntimeError("the function timed out")

    monkeypatch.setattr(purge, "_purge", crash)
    with pytest.raises(RuntimeError):
        purge.run(db, now=after(body))
    monkeypatch.setattr(purge, "_purge", original)
    assert tenant_rows(identity_env, owner.tenant_id)  # half done

    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": after(body).isoformat(), "detail": {}}
    assert purger.handler(event, lambda_context) == {"purged": [owner.tenant_id]}
    assert tenant_rows(identity_env, owner.tenant_id) == []
