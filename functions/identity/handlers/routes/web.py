"""What identity's routes share: the stores, the settings, the request's facts, the cookies."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from functions.identity.config import IdentityApiConfig
from functions.identity.dal.store import IdentityDb
from functions.identity.logic import sessions
from functions.identity.logic.accounts import AccountSettings
from functions.identity.logic.common import RequestInfo
from functions.identity.logic.sessions import IssuedSession
from functions.identity.models.api import Accepted, SessionIssued
from ninefold_core.errors import UnsupportedMediaType
from ninefold_core.http import current_config
from ninefold_core.tenant import TenantContext

# Routes that answer something other than 200 say so in the OpenAPI document.
ACCEPTED: dict[int, OpenAPIResponse] = {
    202: {
        "description": "Accepted: the same answer whoever asked",
        "content": {"application/json": {"model": Accepted}},
    }
}
NO_CONTENT: dict[int, OpenAPIResponse] = {204: {"description": "Done; nothing to return"}}


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def config(router: BaseRouter) -> IdentityApiConfig:
    return current_config(router, IdentityApiConfig)


def db(router: BaseRouter) -> IdentityDb:
    return IdentityDb(config(router).table_name)


def settings(router: BaseRouter) -> AccountSettings:
    return AccountSettings.from_config(config(router))


def request_info(router: BaseRouter) -> RequestInfo:
    raw = router.current_event.raw_event
    request_context = raw.get("requestContext") or {}
    http = request_context.get("http") or {}
    headers = raw.get("headers") or {}
    return RequestInfo(
        request_id=request_context.get("requestId"),
        trace_id=headers.get("x-amzn-trace-id"),
        ip_address=http.get("sourceIp"),
        user_agent=http.get("userAgent") or headers.get("user-agent"),
    )


def presented_credential(router: BaseRouter) -> sessions.Credential | None:
    """The session credential the request carries (as the authorizer read it), if any."""
    raw = router.current_event.raw_event
    headers = {str(k).lower(): str(v) for k, v in (raw.get("headers") or {}).items()}
    return sessions.credential_from(headers, sessions.parse_cookies(raw.get("cookies"), headers.get("cookie")))


def require_json(router: BaseRouter) -> None:
    """Public writes accept JSON only: a cross-site HTML form cannot send it without CORS consent,
    which closes login CSRF through `enctype="text/plain"` forms."""
    headers = router.current_event.raw_event.get("headers") or {}
    content_type = str(headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")


def session_cookies(issued: IssuedSession, max_age: int) -> list[Cookie]:
    return [
        Cookie(
            name=sessions.SESSION_COOKIE,
            value=issued.token,
            path="/",
            secure=True,
            http_only=True,
            same_site=SameSite.LAX_MODE,
            max_age=max_age,
        ),
        # Readable by the console's script on purpose: it echoes it as X-CSRF-Token.
        Cookie(
            name=sessions.CSRF_COOKIE,
            value=issued.csrf_token,
            path="/",
            secure=True,
            http_only=False,
            same_site=SameSite.LAX_MODE,
            max_age=max_age,
        ),
    ]


def cleared_cookies() -> list[Cookie]:
    return [
        Cookie(
            name=sessions.SESSION_COOKIE,
            value="",
            path="/",
            secure=True,
            http_only=True,
            same_site=SameSite.LAX_MODE,
            max_age=0,
        ),
        Cookie(
            name=sessions.CSRF_COOKIE,
            value="",
            path="/",
            secure=True,
            http_only=False,
            same_site=SameSite.LAX_MODE,
            max_age=0,
        ),
    ]


def issued_body(issued: IssuedSession, *, email_verified: bool) -> SessionIssued:
    return SessionIssued(
        session_id=issued.session_id,
        token=issued.token,
        csrf_token=issued.csrf_token,
        user_id=issued.user_id,
        tenant_id=issued.tenant_id,
        email_verified=email_verified,
        expires_at=at(issued.expires_at),
        idle_expires_at=at(issued.idle_expires_at),
    )


def cookies_for(token: str, csrf_token: str, config: IdentityApiConfig) -> list[Cookie]:
    """Session cookies for a token that is not an `IssuedSession` at hand (e.g. inside another answer)."""
    max_age = config.session_absolute_seconds
    issued = IssuedSession(
        token=token, csrf_token=csrf_token, session_id="", user_id="", tenant_id="", expires_at=0, idle_expires_at=0
    )
    return session_cookies(issued, max_age)


def session_response(router: BaseRouter, issued: IssuedSession, ctx: TenantContext | None) -> Response[SessionIssued]:
    """A new session for the caller: in the body always, as cookies when the caller is a browser.

    `ctx` is the caller's context (None for public routes, which always set cookies: browsers and
    API clients both come through them, and an API client simply ignores cookies).
    """
    user = db(router).users.get(issued.user_id) or {}
    browser = ctx is None or ctx.credential == "cookie"
    return Response(
        status_code=200,
        body=issued_body(issued, email_verified=bool(user.get("email_verified"))),
        content_type="application/json",
        cookies=session_cookies(issued, config(router).session_absolute_seconds) if browser else None,
    )
