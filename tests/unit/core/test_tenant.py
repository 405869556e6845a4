from __future__ import annotations

from typing import Any

import pytest

from ninefold_core.errors import Forbidden, Unauthorized
from ninefold_core.tenant import Actor, TenantContext, require


def http_event(context: dict[str, str] | None) -> dict[str, object]:
    request_context: dict[str, object] = {"requestId": "req-9"}
    if context is not None:
        request_context["authorizer"] = {"lambda": context}
    return {"requestContext": request_context, "headers": {"x-amzn-trace-id": "Root=1-abc"}}


def test_context_round_trips_through_the_authorizer_wire_format() -> None:
    ctx = TenantContext(
        tenant_id="ws_0123456789",
        user_id="usr_1",
        roles=("admin", "billing"),
        permissions=frozenset({"members:*", "billing:read"}),
        session_id="s1",
        impersonator=Actor(user_id="adm_1", reason="ticket 42"),
    )

    parsed = TenantContext.from_http_event(http_event(ctx.to_authorizer_context()))

    assert parsed.model_dump(exclude={"request_id", "trace_id"}) == ctx.model_dump(exclude={"request_id", "trace_id"})
    assert parsed.request_id == "req-9"
    assert parsed.actor_chain == ("adm_1", "usr_1")


def test_a_request_without_authorizer_context_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        TenantContext.from_http_event(http_event(None))


@pytest.mark.parametrize("tenant_id", ["", "short", "has#hash00", "a" * 65, "spaces are bad"])
def test_tenant_ids_that_could_break_key_prefixes_are_refused(tenant_id: str) -> None:
    with pytest.raises(Unauthorized):
        TenantContext.from_authorizer_context({"tenant_id": tenant_id, "user_id": "u"})


def test_permissions_support_exact_namespace_and_global_grants() -> None:
    ctx = TenantContext(tenant_id="ws_0123456789", user_id="u", permissions=frozenset({"members:*", "audit:read"}))
    assert ctx.can("members:invite")
    assert ctx.can("audit:read")
    assert not ctx.can("audit:export")
    assert TenantContext(tenant_id="ws_0123456789", user_id="u", permissions=frozenset({"*"})).can("anything:at_all")


def test_require_names_the_missing_permissions() -> None:
    ctx = TenantContext(tenant_id="ws_0123456789", user_id="u", permissions=frozenset({"workspace:read"}))
    require(ctx, "workspace:read")
    with pytest.raises(Forbidden) as raised:
        require(ctx, "workspace:read", "workspace:update")
    assert raised.value.extensions == {"missing_permissions": ["workspace:update"]}


@pytest.mark.parametrize("credential", ["bearer", "cookie", None])
def test_the_credential_kind_round_trips_through_the_wire_format(credential: Any) -> None:
    ctx = TenantContext(tenant_id="ws_0123456789", user_id="usr_1", credential=credential, session_id="ses_1")

    wire = ctx.to_authorizer_context()
    parsed = TenantContext.from_authorizer_context(wire)

    assert all(isinstance(v, str) for v in wire.values())
    assert parsed == ctx
    assert parsed.to_authorizer_context() == wire


def test_an_unknown_credential_kind_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        TenantContext.from_authorizer_context({"tenant_id": "ws_0123456789", "user_id": "u", "credential": "magic"})
