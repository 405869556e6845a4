"""Workspaces: the current one (read, rename, delete), the caller's list, create, switch, restore."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.dal.store import WorkspaceStore
from functions.identity.handlers.routes import web
from functions.identity.logic import step_up, workspaces
from functions.identity.models.api import RenameWorkspace, SessionIssued, Workspace
from functions.identity.models.workspaces import CreateWorkspace, WorkspaceDeletion, WorkspaceList
from ninefold_core.http import tenant_context
from ninefold_core.tenant import TENANT_ID_PATTERN, require

TENANT_ID = TENANT_ID_PATTERN.pattern

router = APIGatewayHttpRouter()
TAGS = ["identity"]


def _store() -> WorkspaceStore:
    return WorkspaceStore(web.config(router).table_name, tenant_context(router))


@router.get("/api/v1/workspace", tags=TAGS, summary="The current workspace")
def get_workspace() -> Workspace:
    ctx = tenant_context(router)
    require(ctx, "workspace:read")
    return workspaces.get(ctx, _store())


@router.patch("/api/v1/workspace", tags=TAGS, summary="Rename the current workspace")
def rename_workspace(body: RenameWorkspace) -> Workspace:
    ctx = tenant_context(router)
    require(ctx, "workspace:update")
    return workspaces.rename(ctx, body, _store())


@router.get("/api/v1/workspaces", tags=TAGS, summary="The caller's workspaces (deleted ones while restorable)")
def list_workspaces() -> WorkspaceList:
    return workspaces.list_mine(web.db(router), tenant_context(router))


@router.post(
    "/api/v1/workspaces",
    tags=TAGS,
    summary="Create a workspace owned by the caller",
    responses={201: {"description": "Created", "content": {"application/json": {"model": Workspace}}}},
)
def create_workspace(body: CreateWorkspace) -> Response[Workspace]:
    workspace = workspaces.create_new(web.db(router), tenant_context(router), body)
    return Response(status_code=201, body=workspace, content_type="application/json")


@router.post(
    "/api/v1/workspaces/<workspace_id>/switch",
    tags=TAGS,
    summary="Move this session into another of the caller's workspaces",
)
def switch_workspace(workspace_id: Annotated[str, Path(pattern=TENANT_ID)]) -> Response[SessionIssued]:
    ctx = tenant_context(router)
    credential = web.presented_credential(router)
    settings = web.settings(router)
    issued = workspaces.switch(
        web.db(router),
        ctx,
        workspace_id,
        current_token=credential.token if credential else None,
        policy=settings.sessions,
        request=web.request_info(router),
    )
    return web.session_response(router, issued, ctx)


@router.post("/api/v1/workspaces/<workspace_id>/restore", tags=TAGS, summary="Restore a deleted workspace (owners)")
def restore_workspace(workspace_id: Annotated[str, Path(pattern=TENANT_ID)]) -> Workspace:
    return workspaces.restore(web.db(router), tenant_context(router), workspace_id)


@router.delete(
    "/api/v1/workspace",
    tags=TAGS,
    summary="Delete the current workspace (restorable by an owner during the grace window)",
)
def delete_workspace() -> Response[WorkspaceDeletion]:
    ctx = tenant_context(router)
    require(ctx, "workspace:delete")
    step_up.require_recent(ctx)
    credential = web.presented_credential(router)
    config = web.config(router)
    deletion = workspaces.delete(
        web.db(router),
        ctx,
        current_token=credential.token if credential else None,
        policy=web.settings(router).sessions,
        request=web.request_info(router),
        grace_seconds=config.workspace_grace_seconds,
    )
    cookies = web.cookies_for(deletion.token, deletion.csrf_token, config) if ctx.credential == "cookie" else None
    return Response(status_code=200, body=deletion, content_type="application/json", cookies=cookies)
