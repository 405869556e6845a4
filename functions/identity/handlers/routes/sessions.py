"""The caller's sessions: list them, end one, end them all."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import sessions
from functions.identity.logic.sessions import SessionPolicy
from functions.identity.models.api import SessionList
from ninefold_core.http import tenant_context

router = APIGatewayHttpRouter()
TAGS = ["identity"]


@router.get("/api/v1/sessions", tags=TAGS, summary="The caller's active sessions, the current one flagged")
def list_sessions() -> SessionList:
    return sessions.listing(web.db(router), tenant_context(router), SessionPolicy.from_config(web.config(router)))


@router.delete(
    "/api/v1/sessions/<session_id>", tags=TAGS, summary="End one of the caller's sessions", responses=web.NO_CONTENT
)
def revoke_session(session_id: Annotated[str, Path(pattern=r"^ses_[a-f0-9]{32}$")]) -> Response[None]:
    ctx = tenant_context(router)
    was_current = sessions.revoke(web.db(router), ctx, session_id)
    cookies = web.cleared_cookies() if was_current and ctx.credential == "cookie" else None
    return Response(status_code=204, cookies=cookies)


@router.post(
    "/api/v1/sessions/revoke-all",
    tags=TAGS,
    summary="Sign out everywhere, this device included",
    responses=web.NO_CONTENT,
)
def revoke_all_sessions() -> Response[None]:
    sessions.revoke_all(web.db(router), tenant_context(router))
    return Response(status_code=204, cookies=web.cleared_cookies())
