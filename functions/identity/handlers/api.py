"""Identity's HTTP API: the caller and their workspace."""

from __future__ import annotations

from functions.identity.config import IdentityConfig
from functions.identity.dal.store import WorkspaceStore
from functions.identity.logic import workspaces
from functions.identity.models.api import Me, RenameWorkspace, Workspace
from ninefold_core.http import current_config, http_app, http_handler, tenant_context
from ninefold_core.tenant import require

app = http_app()


def _store() -> WorkspaceStore:
    return WorkspaceStore(current_config(app, IdentityConfig).table_name, tenant_context(app))


@app.get("/api/v1/me", tags=["identity"], summary="Who am I")
def me() -> Me:
    ctx = tenant_context(app)
    return Me(
        user_id=ctx.user_id,
        tenant_id=ctx.tenant_id,
        roles=list(ctx.roles),
        permissions=sorted(ctx.permissions),
        session_id=ctx.session_id,
        impersonated_by=ctx.impersonator.user_id if ctx.impersonator else None,
    )


@app.get("/api/v1/workspace", tags=["identity"], summary="The current workspace")
def get_workspace() -> Workspace:
    ctx = tenant_context(app)
    require(ctx, "workspace:read")
    return workspaces.get(ctx, _store())


@app.patch("/api/v1/workspace", tags=["identity"], summary="Rename the current workspace")
def rename_workspace(body: RenameWorkspace) -> Workspace:
    ctx = tenant_context(app)
    require(ctx, "workspace:update")
    return workspaces.rename(ctx, body, _store())


handler = http_handler(app, IdentityConfig)
