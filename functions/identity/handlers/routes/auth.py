"""Signing up, in and out; verifying the address; resetting a forgotten password.

Everything here except sign-out is public (no authorizer): these routes are how a caller gets
a credential in the first place. They accept JSON bodies only (see `web.require_json`).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import accounts, profile, sessions, two_factor
from functions.identity.models.api import (
    Accepted,
    ConfirmEmailChange,
    EmailVerified,
    PasswordReset,
    PasswordResetConfirm,
    PasswordResetRequest,
    SessionIssued,
    SignInRequest,
    SignUpRequest,
    VerifyEmailRequest,
)
from functions.identity.models.two_factor import TwoFactorRequired, TwoFactorSignInRequest
from ninefold_core.http import tenant_context

router = APIGatewayHttpRouter()
TAGS = ["identity"]
ACCEPTED = {
    202: {
        "description": "Accepted (the same answer whoever asked)",
        "content": {"application/json": {"model": Accepted}},
    }
}


@router.post(
    "/api/v1/auth/sign-up", tags=TAGS, summary="Create an account and its first workspace", responses=web.ACCEPTED
)
def sign_up(body: SignUpRequest) -> Response[Accepted]:
    web.require_json(router)
    result = accounts.sign_up(web.db(router), body, settings=web.settings(router), request=web.request_info(router))
    return Response(status_code=202, body=result, content_type="application/json")


@router.post("/api/v1/auth/verify-email", tags=TAGS, summary="Confirm an address with the emailed link")
def verify_email(body: VerifyEmailRequest) -> EmailVerified:
    web.require_json(router)
    return accounts.verify_email(web.db(router), body, request=web.request_info(router))


@router.post(
    "/api/v1/auth/sign-in",
    tags=TAGS,
    summary="Sign in with email and password",
    description=(
        "Answers the session (`SessionIssued`, with cookies), or, when the account has two-factor on, "
        '`{"status": "two-factor-required", "challenge", ...}` and no session: finish with '
        "`POST /api/v1/auth/sign-in/two-factor`."
    ),
)
def sign_in(body: SignInRequest) -> Response[SessionIssued | TwoFactorRequired]:
    web.require_json(router)
    previous = web.presented_credential(router)
    settings = web.settings(router)
    issued, user = accounts.sign_in(
        web.db(router),
        body,
        settings=settings,
        request=web.request_info(router),
        previous_token=previous.token if previous else None,
    )
    if isinstance(issued, TwoFactorRequired):
        return Response(status_code=200, body=issued, content_type="application/json")
    return Response(
        status_code=200,
        body=web.issued_body(issued, email_verified=bool(user.get("email_verified"))),
        content_type="application/json",
        cookies=web.session_cookies(issued, settings.sessions.absolute_seconds),
    )


@router.post(
    "/api/v1/auth/sign-in/two-factor",
    tags=TAGS,
    summary="Finish a two-factor sign-in with the challenge and a code (or a recovery code)",
)
def sign_in_two_factor(body: TwoFactorSignInRequest) -> Response[SessionIssued]:
    web.require_json(router)
    previous = web.presented_credential(router)
    settings = web.settings(router)
    issued, user = two_factor.complete_sign_in(
        web.db(router),
        body,
        policy=settings.sessions,
        request=web.request_info(router),
        previous_token=previous.token if previous else None,
    )
    return Response(
        status_code=200,
        body=web.issued_body(issued, email_verified=bool(user.get("email_verified"))),
        content_type="application/json",
        cookies=web.session_cookies(issued, settings.sessions.absolute_seconds),
    )


@router.post("/api/v1/auth/sign-out", tags=TAGS, summary="End the current session", responses=web.NO_CONTENT)
def sign_out() -> Response[None]:
    credential = web.presented_credential(router)
    sessions.sign_out(web.db(router), tenant_context(router), credential.token if credential else None)
    return Response(status_code=204, cookies=web.cleared_cookies())


@router.post(
    "/api/v1/auth/password-reset/request",
    tags=TAGS,
    summary="Email a link to choose a new password",
    responses=web.ACCEPTED,
)
def request_password_reset(body: PasswordResetRequest) -> Response[Accepted]:
    web.require_json(router)
    result = accounts.request_password_reset(
        web.db(router), body, settings=web.settings(router), request=web.request_info(router)
    )
    return Response(status_code=202, body=result, content_type="application/json")


@router.post("/api/v1/auth/password-reset/confirm", tags=TAGS, summary="Choose a new password with the emailed link")
def confirm_password_reset(body: PasswordResetConfirm) -> PasswordReset:
    web.require_json(router)
    return accounts.reset_password(web.db(router), body, request=web.request_info(router))


@router.post("/api/v1/auth/email-change/confirm", tags=TAGS, summary="Confirm a new address with the emailed link")
def confirm_email_change(body: ConfirmEmailChange) -> Accepted:
    web.require_json(router)
    return profile.confirm_email_change(
        web.db(router), body, settings=web.settings(router), request=web.request_info(router)
    )
