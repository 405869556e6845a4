"""Platform admins: impersonation, finding, disabling and enabling users.

Platform routes: they need `platform:` permissions, which only a platform role on the user
grants (never a workspace role), so any workspace member, owners included, gets a 403.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import impersonation
from functions.identity.models.admin import (
    AdminUser,
    ChangeUserState,
    ImpersonationIssued,
    StartImpersonation,
)
from functions.identity.models.api import USER_ID_PATTERN
from ninefold_core.http import tenant_context

router = APIGatewayHttpRouter()
TAGS = ["identity", "admin"]
UserIdParam = Annotated[str, Path(min_length=1, max_length=64, pattern=USER_ID_PATTERN)]


@router.post("/api/v1/admin/impersonations", tags=TAGS, summary="Act as a user for a while (platform:impersonate)")
def start_impersonation(body: StartImpersonation) -> Response[ImpersonationIssued]:
    ctx = tenant_context(router)
    settings = web.settings(router)
    issued, user = impersonation.start(
        web.db(router), ctx, body, policy=settings.sessions, request=web.request_info(router)
    )
    session = web.issued_body(issued, email_verified=bool(user.get("email_verified")))
    return Response(
        status_code=200,
        body=ImpersonationIssued(**session.model_dump(), impersonator_id=ctx.user_id, reason=body.reason),
        content_type="application/json",
        # The admin's browser switches to the impersonated session (until it ends).
        cookies=web.session_cookies(issued, body.minutes * 60),
    )


@router.post(
    "/api/v1/admin/impersonations/end",
    tags=TAGS,
    summary="End the impersonation this request is made with",
    responses=web.NO_CONTENT,
)
def end_impersonation() -> Response[None]:
    credential = web.presented_credential(router)
    impersonation.end(web.db(router), tenant_context(router), credential.token if credential else None)
    return Response(status_code=204, cookies=web.cleared_cookies())


@router.get("/api/v1/admin/users", tags=TAGS, summary="Find a user by email address (platform:users)")
def find_user(email: Annotated[str | None, Query(max_length=320)] = None) -> AdminUser:
    return impersonation.find_user(web.db(router), tenant_context(router), email)


@router.post("/api/v1/admin/users/<user_id>/disable", tags=TAGS, summary="Disable a user; every session ends")
def disable_user(user_id: UserIdParam, body: ChangeUserState) -> AdminUser:
    return impersonation.disable(web.db(router), tenant_context(router), user_id, reason=body.reason)


@router.post("/api/v1/admin/users/<user_id>/enable", tags=TAGS, summary="Let a disabled user sign in again")
def enable_user(user_id: UserIdParam, body: ChangeUserState) -> AdminUser:
    return impersonation.enable(web.db(router), tenant_context(router), user_id, reason=body.reason)
