"""The routes API Gateway declares (stacks/routes.py, read by the CDK stack) are exactly the
routes identity's resolver serves, so neither can change without the other."""

from __future__ import annotations

import json
import re

from functions.identity.handlers.api import app
from stacks.routes import IDENTITY


def resolver_routes() -> set[str]:
    document = json.loads(app.get_openapi_json_schema())
    return {f"{method.upper()} {path}" for path, operations in document["paths"].items() for method in operations}


def test_the_cdk_route_list_and_the_resolver_agree() -> None:
    declared = set(IDENTITY.all)
    assert len(declared) == len(IDENTITY.all), "a route is declared twice"
    served = resolver_routes()
    assert declared - served == set(), "declared in stacks/routes.py but not served by the resolver"
    assert served - declared == set(), "served by the resolver but not declared in stacks/routes.py"


def test_public_routes_are_the_credential_minting_ones_and_say_why() -> None:
    assert set(IDENTITY.public) == {
        "POST /api/v1/auth/sign-up",
        "POST /api/v1/auth/sign-in",
        "POST /api/v1/auth/sign-in/two-factor",
        "POST /api/v1/auth/verify-email",
        "POST /api/v1/auth/password-reset/request",
        "POST /api/v1/auth/password-reset/confirm",
        "POST /api/v1/auth/invitations/preview",
        "POST /api/v1/auth/invitations/accept",
        "POST /api/v1/auth/email-change/confirm",
    }
    assert all(len(reason) > 20 for reason in IDENTITY.public.values())
    assert not set(IDENTITY.public) & set(IDENTITY.authorized)


def test_route_keys_use_api_gateway_path_variables() -> None:
    for route_key in IDENTITY.all:
        assert re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) /api/v1(/[a-z0-9{}_-]+)+", route_key), route_key
