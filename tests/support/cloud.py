"""Fixtures every system's integration and e2e tests reuse.

* `cloud` — one local cloud per test session, running what `make synth` wrote
  to cdk.out/ (the same process `make dev` runs).
* `tenant_a`, `tenant_b` — signed-in owners of two workspaces, each with an
  `api` client that sends their bearer token (seeded straight into identity's
  table; `tests/integration/identity` signs up through the API instead).

Import them into a tier's conftest with `from tests.support.cloud import *`.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from functions.identity.seed import seed_user

ROOT = pathlib.Path(__file__).resolve().parents[2]
CDK_OUT = ROOT / "cdk.out"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    set_cookies: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None

    def cookie(self, name: str) -> str | None:
        """The value this response's Set-Cookie gives `name`, or None."""
        for entry in self.set_cookies:
            key, _, rest = entry.partition("=")
            if key.strip() == name:
                return rest.split(";", 1)[0]
        return None


class Api:
    """A minimal HTTP client for the platform's public API."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(headers or {})
        if cookies:
            # Sent by hand: the cookie jar rightly keeps `Secure` cookies off plain-http loopback.
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        response = self.session.request(
            method, self.base_url + path, json=json_body, data=data, headers=headers, timeout=30
        )
        set_cookies = list(response.raw.headers.getlist("Set-Cookie")) if response.raw is not None else []
        return Reply(response.status_code, dict(response.headers), response.text, set_cookies)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, json_body=body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


@dataclass
class SignedInUser:
    tenant_id: str
    user_id: str
    token: str
    api: Api


def enabled_systems() -> set[str]:
    manifest = json.loads((CDK_OUT / "manifest.json").read_text())
    return {
        name.removeprefix("Ninefold-").lower()
        for name, artifact in manifest["artifacts"].items()
        if artifact.get("type") == "aws:cloudformation:stack" and name.startswith("Ninefold-")
    }


def requires_system(system: str) -> Any:
    """Skip a test whose system was left out of cdk.json's `ninefold:systems`."""
    present = (CDK_OUT / "manifest.json").exists() and system in enabled_systems()
    return pytest.mark.skipif(not present, reason=f"system {system!r} is not in this synth")


@pytest.fixture(scope="session")
def cloud() -> Iterator[Any]:
    if not (CDK_OUT / "manifest.json").exists():
        pytest.fail("cdk.out/ is missing: run `make synth` (make integration/e2e do it for you)")
    from localcloud import LocalCloud

    with LocalCloud(cdk_out=CDK_OUT, port=0) as running:
        yield running


def _sign_in(cloud: Any, workspace: str, user_id: str) -> SignedInUser:
    table = cloud.resource("Ninefold-Identity/Table").name
    seeded = seed_user(table, workspace_name=workspace, user_id=user_id, client=cloud.client("dynamodb"))
    return SignedInUser(seeded.tenant_id, seeded.user_id, seeded.token, Api(cloud.url, seeded.token))


@pytest.fixture(scope="session")
def tenant_a(cloud: Any) -> SignedInUser:
    return _sign_in(cloud, "Tenant A", "usr_alice")


@pytest.fixture(scope="session")
def tenant_b(cloud: Any) -> SignedInUser:
    return _sign_in(cloud, "Tenant B", "usr_bob")


@pytest.fixture(scope="session")
def anonymous(cloud: Any) -> Api:
    return Api(cloud.url)
