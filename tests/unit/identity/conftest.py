"""Identity's unit fixtures: its environment on a moto table, and callers for its two handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.identity.dal.store import IdentityDb
from functions.identity.handlers import api, authorizer
from functions.identity.seed import SeededUser, seed_user
from ninefold_core import aws
from ninefold_core.tenant import TenantContext
from tests.support.events import http_event

APP_URL = "https://console.ninefold.test"
GOOD_PASSWORD = "correct horse battery staple"


@pytest.fixture
def identity_env(table: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYSTEM", "identity")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "identity")
    monkeypatch.setenv("TABLE_NAME", table)
    monkeypatch.setenv("APP_URL", APP_URL)
    return table


@pytest.fixture
def db(identity_env: str) -> IdentityDb:
    return IdentityDb(identity_env)


@pytest.fixture
def owner(identity_env: str) -> SeededUser:
    return seed_user(identity_env, workspace_name="Acme", user_id="usr_owner")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    cookies: list[str] = field(default_factory=list)

    def cookie(self, name: str) -> str | None:
        """The value a Set-Cookie gives `name` (None if not set)."""
        for entry in self.cookies:
            key, _, rest = entry.partition("=")
            if key == name:
                return rest.split(";", 1)[0]
        return None

    def cookie_attributes(self, name: str) -> list[str]:
        for entry in self.cookies:
            if entry.partition("=")[0] == name:
                return [part.strip() for part in entry.split(";")[1:]]
        return []


def authorize(
    lambda_context: Any,
    *,
    token: str | None = None,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "headers": all_headers,
        "requestContext": {"http": {"method": method, "path": "/api/v1/me", "sourceIp": "127.0.0.1"}},
    }
    if cookies:
        event["cookies"] = [f"{k}={v}" for k, v in cookies.items()]
    result: dict[str, Any] = authorizer.handler(event, lambda_context)
    return result


def context_for(token: str, lambda_context: Any) -> TenantContext:
    result = authorize(lambda_context, token=token)
    assert result["isAuthorized"] is True, result
    return TenantContext.from_authorizer_context(result["context"])


def call(method: str, path: str, ctx: TenantContext | None, lambda_context: Any, **kwargs: Any) -> Reply:
    if "body" in kwargs and "headers" not in kwargs:
        kwargs["headers"] = {"content-type": "application/json"}
    response = api.handler(http_event(method, path, ctx=ctx, **kwargs), lambda_context)
    return Reply(
        status=response["statusCode"],
        headers=response.get("headers", {}),
        body=json.loads(response["body"]) if response.get("body") else None,
        cookies=list(response.get("cookies") or []),
    )


def scan(table: str) -> list[dict[str, Any]]:
    """Every item, raw (test inspection only: the product code never scans)."""
    from ninefold_core.dynamo import deserialize

    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return [deserialize(i) for i in items]


def events(table: str, event_type: str | None = None) -> list[dict[str, Any]]:
    """Envelopes waiting in the outbox, oldest first."""
    found = [json.loads(i["envelope"]) for i in scan(table) if i.get("kind") == "outbox"]
    found.sort(key=lambda e: e["metadata"]["occurred_at"])
    return [e for e in found if event_type is None or e["metadata"]["type"] == event_type]


def emails_to(table: str, address: str, template: str | None = None) -> list[dict[str, Any]]:
    return [
        e["data"]
        for e in events(table, "email.requested")
        if e["data"]["to"] == address and (template is None or e["data"]["template"] == template)
    ]


def token_from_link(link: str) -> str:
    return link.split("#token=", 1)[1]
