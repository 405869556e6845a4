"""Two-factor authentication (TOTP + recovery codes) and step-up, for the signed-in caller.

Enrolling, disabling and regenerating recovery codes need a recent step-up (`POST /me/step-up`).
Finishing a two-factor sign-in (`POST /auth/sign-in/two-factor`) is public and lives in `auth.py`.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import two_factor
from functions.identity.models.two_factor import (
    ConfirmTwoFactorRequest,
    RecoveryCodes,
    SteppedUp,
    StepUpRequest,
    TwoFactorEnrolment,
    TwoFactorStatus,
)
from ninefold_core.http import tenant_context

router = APIGatewayHttpRouter()
TAGS = ["identity"]


@router.get(
    "/api/v1/me/two-factor", tags=TAGS, summary="Whether two-factor is on, and how many recovery codes are left"
)
def get_two_factor() -> TwoFactorStatus:
    return two_factor.status(web.db(router), tenant_context(router))


@router.post(
    "/api/v1/me/two-factor/enrol",
    tags=TAGS,
    summary="Start enrolling an authenticator app (needs a recent step-up); shows the secret once",
)
def enrol_two_factor() -> TwoFactorEnrolment:
    return two_factor.enrol(web.db(router), tenant_context(router))


@router.post(
    "/api/v1/me/two-factor/confirm",
    tags=TAGS,
    summary="Turn two-factor on with a code from the app; answers the recovery codes, once",
)
def confirm_two_factor(body: ConfirmTwoFactorRequest) -> RecoveryCodes:
    return two_factor.confirm(web.db(router), tenant_context(router), body.code)


@router.post("/api/v1/me/two-factor/disable", tags=TAGS, summary="Turn two-factor off (needs a recent step-up)")
def disable_two_factor() -> TwoFactorStatus:
    return two_factor.disable(web.db(router), tenant_context(router))


@router.post(
    "/api/v1/me/two-factor/recovery-codes",
    tags=TAGS,
    summary="A new set of recovery codes; the old ones stop working (needs a recent step-up)",
)
def regenerate_recovery_codes() -> RecoveryCodes:
    return two_factor.regenerate_recovery_codes(web.db(router), tenant_context(router))


@router.post(
    "/api/v1/me/step-up",
    tags=TAGS,
    summary="Confirm it is you (password, or with two-factor on a code or recovery code) before a sensitive action",
)
def step_up(body: StepUpRequest) -> SteppedUp:
    credential = web.presented_credential(router)
    return two_factor.step_up(
        web.db(router),
        tenant_context(router),
        body,
        token=credential.token if credential else None,
        request=web.request_info(router),
    )
