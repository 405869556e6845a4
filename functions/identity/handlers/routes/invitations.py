"""Invitations: send, list, read, revoke; accept (signed in, or public with a new password)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import invitations
from functions.identity.models.api import SessionIssued
from functions.identity.models.workspaces import (
    AcceptInvitationNewAccount,
    CreateInvitation,
    Invitation,
    InvitationList,
    InvitationPreview,
    InvitationToken,
)
from ninefold_core.http import tenant_context
from ninefold_core.tenant import require

router = APIGatewayHttpRouter()
TAGS = ["identity"]
INVITATION_ID = r"^inv_[a-f0-9]{32}$"


@router.post(
    "/api/v1/invitations",
    tags=TAGS,
    summary="Invite someone by email (the link expires; roles within your own)",
    responses={201: {"description": "Invited", "content": {"application/json": {"model": Invitation}}}},
)
def create_invitation(body: CreateInvitation) -> Response[Invitation]:
    ctx = tenant_context(router)
    invitation = invitations.create(web.db(router), ctx, body, app_url=web.config(router).app_url)
    return Response(status_code=201, body=invitation, content_type="application/json")


@router.get("/api/v1/invitations", tags=TAGS, summary="The workspace's invitations, newest first")
def list_invitations() -> InvitationList:
    ctx = tenant_context(router)
    require(ctx, "members:read")
    return invitations.listing(ctx, web.db(router).workspace(ctx))


@router.get("/api/v1/invitations/<invitation_id>", tags=TAGS, summary="One invitation")
def get_invitation(invitation_id: Annotated[str, Path(pattern=INVITATION_ID)]) -> Invitation:
    ctx = tenant_context(router)
    require(ctx, "members:read")
    return invitations.get(ctx, web.db(router).workspace(ctx), invitation_id)


@router.delete(
    "/api/v1/invitations/<invitation_id>",
    tags=TAGS,
    summary="Revoke a pending invitation: its link stops working",
    responses=web.NO_CONTENT,
)
def revoke_invitation(invitation_id: Annotated[str, Path(pattern=INVITATION_ID)]) -> Response[None]:
    invitations.revoke(web.db(router), tenant_context(router), invitation_id)
    return Response(status_code=204)


@router.post(
    "/api/v1/invitations/accept",
    tags=TAGS,
    summary="Accept an invitation to your own address; this session moves into the workspace",
)
def accept_invitation(body: InvitationToken) -> Response[SessionIssued]:
    ctx = tenant_context(router)
    credential = web.presented_credential(router)
    issued = invitations.accept_signed_in(
        web.db(router),
        ctx,
        body.token,
        current_token=credential.token if credential else None,
        policy=web.settings(router).sessions,
        request=web.request_info(router),
    )
    return web.session_response(router, issued, ctx)


@router.post("/api/v1/auth/invitations/preview", tags=TAGS, summary="What an invitation link is for")
def preview_invitation(body: InvitationToken) -> InvitationPreview:
    web.require_json(router)
    return invitations.preview(web.db(router), body.token)


@router.post(
    "/api/v1/auth/invitations/accept",
    tags=TAGS,
    summary="Accept an invitation with a new account (the link proves the address)",
)
def accept_invitation_new_account(body: AcceptInvitationNewAccount) -> Response[SessionIssued]:
    web.require_json(router)
    issued = invitations.accept_new_account(
        web.db(router), body, policy=web.settings(router).sessions, request=web.request_info(router)
    )
    return web.session_response(router, issued, None)
