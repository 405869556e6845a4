"""The profile: a name, and moving the account to a new address proven by a link sent there."""

from __future__ import annotations

from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions
from functions.identity.seed import SeededUser, seed_user
from tests.unit.identity.conftest import call, emails_to, events, token_from_link
from tests.unit.identity.test_workspaces_members import Caller, join_new


def test_a_name_change_reaches_the_membership_listings(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    acme = Caller(owner.token, lambda_context)
    assert acme("PATCH", "/api/v1/me", {"name": "  Ada  "}).body["name"] == "Ada"
    members = acme("GET", "/api/v1/members").body["items"]
    assert [m["name"] for m in members if m["you"]] == ["Ada"]
    assert events(identity_env, "user.profile_updated")[-1]["data"] == {"user_id": owner.user_id, "name": "Ada"}
    assert acme("PATCH", "/api/v1/me", {"name": "   "}).status == 422


def test_moving_to_a_new_address_needs_a_step_up_and_the_link_sent_there(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    acme = Caller(owner.token, lambda_context)
    join_new(identity_env, acme, "bob@example.com", lambda_context)  # a second workspace row to keep in step
    db = IdentityDb(identity_env)

    asked = acme("POST", "/api/v1/me/email", {"new_email": "Ada@New.example"})
    assert asked.status == 202
    link = emails_to(identity_env, "ada@new.example", "change-email")[-1]["variables"]["link"]
    assert "/app/confirm-email#token=nf_c_" in link
    assert db.users.get(owner.user_id)["email"] == owner.email  # nothing changes before the link is used

    confirmed = call(
        "POST", "/api/v1/auth/email-change/confirm", None, lambda_context, body={"token": token_from_link(link)}
    )
    assert confirmed.status == 200, confirmed.body
    assert db.users.get(owner.user_id)["email"] == "ada@new.example"
    assert db.users.id_for_email("ada@new.example") == owner.user_id
    assert db.users.id_for_email(owner.email) is None
    assert [m["email"] for m in acme("GET", "/api/v1/members").body["items"] if m["you"]] == ["ada@new.example"]
    assert emails_to(identity_env, owner.email, "email-changed")[-1]["variables"]["new_email"] == "ada@new.example"
    change = events(identity_env, "user.email_changed")[-1]["data"]
    assert change == {"user_id": owner.user_id, "old_email": owner.email, "new_email": "ada@new.example"}
    again = call(
        "POST", "/api/v1/auth/email-change/confirm", None, lambda_context, body={"token": token_from_link(link)}
    )
    assert again.status == 422  # single use
    assert acme.allowed  # sessions stay


def test_a_taken_address_answers_the_same_and_gets_no_link(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    seed_user(identity_env, workspace_name="Taken", user_id="usr_taken", email="taken@example.com")
    reply = Caller(owner.token, lambda_context)("POST", "/api/v1/me/email", {"new_email": "taken@example.com"})
    assert reply.status == 202
    assert emails_to(identity_env, "taken@example.com", "change-email") == []


def test_an_address_taken_after_the_link_was_sent_refuses_the_link(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    Caller(owner.token, lambda_context)("POST", "/api/v1/me/email", {"new_email": "race@example.com"})
    link = emails_to(identity_env, "race@example.com", "change-email")[-1]["variables"]["link"]
    seed_user(identity_env, workspace_name="Racer", user_id="usr_racer", email="race@example.com")
    reply = call(
        "POST", "/api/v1/auth/email-change/confirm", None, lambda_context, body={"token": token_from_link(link)}
    )
    assert reply.status == 422
    assert IdentityDb(identity_env).users.get(owner.user_id)["email"] == owner.email


def test_without_a_recent_step_up_the_address_does_not_move(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    db = IdentityDb(identity_env)
    row = db.sessions.get(sessions.hash_token(owner.token))
    assert row is not None
    db.sessions.repo.update((row["token_hash"],), "session", {"stepped_up_at": 1})
    reply = Caller(owner.token, lambda_context)("POST", "/api/v1/me/email", {"new_email": "x@example.com"})
    assert reply.status == 403
    assert reply.body["type"].endswith("step-up-required")
