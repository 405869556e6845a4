"""Members of the current workspace: list, read, change roles, remove or leave."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import members
from functions.identity.models.api import USER_ID_PATTERN as USER_ID
from functions.identity.models.workspaces import Member, MemberList, MemberRoles
from ninefold_core.http import tenant_context
from ninefold_core.tenant import require

router = APIGatewayHttpRouter()
TAGS = ["identity"]


@router.get("/api/v1/members", tags=TAGS, summary="The workspace's members and its seat count")
def list_members() -> MemberList:
    ctx = tenant_context(router)
    require(ctx, "members:read")
    return members.listing(ctx, web.db(router).workspace(ctx))


@router.get("/api/v1/members/<user_id>", tags=TAGS, summary="One member")
def get_member(user_id: Annotated[str, Path(pattern=USER_ID)]) -> Member:
    ctx = tenant_context(router)
    require(ctx, "members:read")
    return members.get(ctx, web.db(router).workspace(ctx), user_id)


@router.patch(
    "/api/v1/members/<user_id>", tags=TAGS, summary="Change a member's roles (effective on their next request)"
)
def change_member_roles(user_id: Annotated[str, Path(pattern=USER_ID)], body: MemberRoles) -> Member:
    ctx = tenant_context(router)
    return members.change_roles(ctx, web.db(router).workspace(ctx), user_id, body)


@router.delete(
    "/api/v1/members/<user_id>",
    tags=TAGS,
    summary="Remove a member, or leave (your own id); never the last owner",
    responses=web.NO_CONTENT,
)
def remove_member(user_id: Annotated[str, Path(pattern=USER_ID)]) -> Response[None]:
    ctx = tenant_context(router)
    members.remove(ctx, web.db(router).workspace(ctx), user_id)
    return Response(status_code=204)
