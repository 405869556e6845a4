"""The current workspace."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.dal.store import WorkspaceStore
from functions.identity.handlers.routes import web
from functions.identity.logic import workspaces
from functions.identity.models.api import RenameWorkspace, Workspace
from ninefold_core.http import tenant_context
from ninefold_core.tenant import require

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
