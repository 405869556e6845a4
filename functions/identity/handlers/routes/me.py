"""The caller: who they are, their password, their address's verification."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import accounts, profile
from functions.identity.models.api import (
    Accepted,
    ChangeEmailRequest,
    ChangePasswordRequest,
    Me,
    SessionIssued,
    UpdateProfile,
)
from ninefold_core.http import tenant_context

router = APIGatewayHttpRouter()
TAGS = ["identity"]


@router.get("/api/v1/me", tags=TAGS, summary="Who am I")
def me() -> Me:
    return accounts.me(web.db(router), tenant_context(router))


@router.post("/api/v1/me/password", tags=TAGS, summary="Change the password; every session ends, this one is renewed")
def change_password(body: ChangePasswordRequest) -> Response[SessionIssued]:
    ctx = tenant_context(router)
    credential = web.presented_credential(router)
    settings = web.settings(router)
    issued = accounts.change_password(
        web.db(router),
        ctx,
        body,
        settings=settings,
        request=web.request_info(router),
        current_token=credential.token if credential else None,
    )
    me = accounts.me(web.db(router), ctx)
    return Response(
        status_code=200,
        body=web.issued_body(issued, email_verified=me.email_verified),
        content_type="application/json",
        cookies=web.session_cookies(issued, settings.sessions.absolute_seconds) if ctx.credential == "cookie" else None,
    )


@router.post(
    "/api/v1/me/verify-email",
    tags=TAGS,
    summary="Send a new address confirmation link",
    responses=web.ACCEPTED,
)
def resend_verification() -> Response[Accepted]:
    result = accounts.resend_verification(web.db(router), tenant_context(router), settings=web.settings(router))
    return Response(status_code=202, body=result, content_type="application/json")


@router.patch("/api/v1/me", tags=TAGS, summary="Change how you are addressed")
def update_profile(body: UpdateProfile) -> Me:
    return profile.update(web.db(router), tenant_context(router), body)


@router.post(
    "/api/v1/me/email",
    tags=TAGS,
    summary="Move the account to a new address (needs a recent step-up); a link goes there to confirm",
    responses=web.ACCEPTED,
)
def request_email_change(body: ChangeEmailRequest) -> Response[Accepted]:
    result = profile.request_email_change(web.db(router), tenant_context(router), body, settings=web.settings(router))
    return Response(status_code=202, body=result, content_type="application/json")
