"""Teams: the roles they grant their members, and who is in them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.dal.store import WorkspaceStore
from functions.identity.handlers.routes import web
from functions.identity.logic import teams
from functions.identity.models.api import USER_ID_PATTERN
from functions.identity.models.rbac import (
    TEAM_ID_PATTERN,
    CreateTeam,
    SetTeamMember,
    Team,
    TeamList,
    TeamMember,
    TeamMemberList,
    UpdateTeam,
)
from ninefold_core.http import tenant_context
from ninefold_core.tenant import require

router = APIGatewayHttpRouter()
TAGS = ["identity"]
TeamId = Annotated[str, Path(pattern=TEAM_ID_PATTERN)]
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN)]
CREATED: dict[int, OpenAPIResponse] = {
    201: {"description": "Created", "content": {"application/json": {"model": Team}}}
}


def _store() -> WorkspaceStore:
    return WorkspaceStore(web.config(router).table_name, tenant_context(router))


@router.get("/api/v1/teams", tags=TAGS, summary="The workspace's teams")
def list_teams() -> TeamList:
    require(tenant_context(router), "members:read")
    return teams.listing(_store())


@router.post("/api/v1/teams", tags=TAGS, summary="Create a team", responses=CREATED)
def create_team(body: CreateTeam) -> Response[Team]:
    ctx = tenant_context(router)
    require(ctx, "teams:manage")
    return Response(status_code=201, body=teams.create(ctx, _store(), body), content_type="application/json")


@router.get("/api/v1/teams/<team_id>", tags=TAGS, summary="One team")
def get_team(team_id: TeamId) -> Team:
    require(tenant_context(router), "members:read")
    return teams.get(_store(), team_id)


@router.patch("/api/v1/teams/<team_id>", tags=TAGS, summary="Rename a team or change the roles it grants")
def update_team(team_id: TeamId, body: UpdateTeam) -> Team:
    ctx = tenant_context(router)
    require(ctx, "teams:manage")
    return teams.update(ctx, _store(), team_id, body)


@router.delete("/api/v1/teams/<team_id>", tags=TAGS, summary="Delete a team", responses=web.NO_CONTENT)
def delete_team(team_id: TeamId) -> Response[None]:
    ctx = tenant_context(router)
    require(ctx, "teams:manage")
    teams.delete(ctx, _store(), team_id)
    return Response(status_code=204)


@router.get("/api/v1/teams/<team_id>/members", tags=TAGS, summary="A team's members and their team roles")
def list_team_members(team_id: TeamId) -> TeamMemberList:
    require(tenant_context(router), "members:read")
    return teams.members(_store(), team_id)


@router.put(
    "/api/v1/teams/<team_id>/members/<user_id>",
    tags=TAGS,
    summary="Add a workspace member to a team, or make them lead or member (teams:manage or the team's lead)",
)
def set_team_member(team_id: TeamId, user_id: UserId, body: SetTeamMember) -> TeamMember:
    ctx = tenant_context(router)
    require(ctx, "members:read")  # and teams:manage, or being this team's lead (checked by the logic)
    return teams.set_member(ctx, _store(), team_id, user_id, body)


@router.delete(
    "/api/v1/teams/<team_id>/members/<user_id>",
    tags=TAGS,
    summary="Remove someone from a team (teams:manage or the team's lead)",
    responses=web.NO_CONTENT,
)
def remove_team_member(team_id: TeamId, user_id: UserId) -> Response[None]:
    ctx = tenant_context(router)
    require(ctx, "members:read")  # and teams:manage, or being this team's lead (checked by the logic)
    teams.remove_member(ctx, _store(), team_id, user_id)
    return Response(status_code=204)
