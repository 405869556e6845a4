"""The authorizer's optional cache: keyed on the credential's hash, bounded by TTL and the session's
own deadline, off by default (revocation then applies at the next request)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.handlers import authorizer
from functions.identity.logic import sessions
from functions.identity.logic.auth_cache import AuthCache
from functions.identity.seed import SeededUser, seed_user
from tests.unit.identity.conftest import authorize


@pytest.fixture(autouse=True)
def empty_cache() -> Any:
    authorizer.CACHE.clear()
    yield
    authorizer.CACHE.clear()


def revoke(identity_env: str, user: SeededUser) -> None:
    db = IdentityDb(identity_env)
    row = db.sessions.get(sessions.hash_token(user.token))
    assert row is not None
    db.transact([db.sessions.delete_op(row)])


def test_off_by_default_a_revoked_session_is_denied_at_the_next_request(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    assert authorize(lambda_context, token=owner.token)["isAuthorized"]
    revoke(identity_env, owner)
    assert not authorize(lambda_context, token=owner.token)["isAuthorized"]


def test_when_on_an_answer_is_reused_for_its_own_token_only(
    identity_env: str, owner: SeededUser, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", "30")
    other = seed_user(identity_env, workspace_name="Other", user_id="usr_other")
    mine = authorize(lambda_context, token=owner.token)
    theirs = authorize(lambda_context, token=other.token)
    assert mine["context"]["tenant_id"] == owner.tenant_id
    assert theirs["context"]["tenant_id"] == other.tenant_id

    revoke(identity_env, owner)
    # Within the TTL the cached answer stands (the documented trade); the other token keeps its own.
    assert authorize(lambda_context, token=owner.token)["context"]["tenant_id"] == owner.tenant_id
    assert authorize(lambda_context, token=other.token)["context"]["tenant_id"] == other.tenant_id
    # A token that was never seen is resolved, not served from someone else's entry.
    assert not authorize(lambda_context, token=owner.token + "x")["isAuthorized"]


def test_cookie_writes_still_need_the_csrf_token_when_cached(
    identity_env: str, owner: SeededUser, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTHORIZER_CACHE_SECONDS", "30")
    cookies = {sessions.SESSION_COOKIE: owner.token}
    assert authorize(lambda_context, cookies=cookies)["isAuthorized"]  # a GET fills the cache
    assert not authorize(lambda_context, cookies=cookies, method="POST")["isAuthorized"]


def test_entries_expire_at_the_ttl_or_the_deadline_and_keep_no_token() -> None:
    cache = AuthCache(max_entries=2)
    cache.put("nf_s_a", "A", now=100, ttl=30)
    cache.put("nf_s_b", "B", now=100, ttl=30, not_after=110)
    cache.put("nf_s_zero", "Z", now=100, ttl=0)
    assert cache.get("nf_s_a", now=129) == "A"
    assert cache.get("nf_s_a", now=130) is None
    assert cache.get("nf_s_b", now=109) == "B"
    assert cache.get("nf_s_b", now=110) is None
    assert cache.get("nf_s_zero", now=100) is None
    assert all("nf_s_" not in key for key in cache._entries)
    for n in range(3):
        cache.put(f"nf_s_{n}", n, now=200, ttl=30)
    assert cache.get("nf_s_0", now=201) is None  # the oldest went: at most max_entries
    assert cache.get("nf_s_2", now=201) == 2
