"""Custom roles and the permission catalogue they are made of."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.dal.store import WorkspaceStore
from functions.identity.handlers.routes import web
from functions.identity.logic import roles
from functions.identity.models.rbac import ROLE_ID_PATTERN, CreateRole, PermissionCatalogue, Role, RoleList, UpdateRole
from ninefold_core.http import tenant_context
from ninefold_core.tenant import require

router = APIGatewayHttpRouter()
TAGS = ["identity"]
RoleId = Annotated[str, Path(pattern=ROLE_ID_PATTERN, description="A custom role's id; built-in roles never change.")]
CREATED: dict[int, OpenAPIResponse] = {
    201: {"description": "Created", "content": {"application/json": {"model": Role}}}
}


def _store() -> WorkspaceStore:
    return WorkspaceStore(web.config(router).table_name, tenant_context(router))


@router.get("/api/v1/permissions", tags=TAGS, summary="The permission catalogue and the built-in roles")
def get_permissions() -> PermissionCatalogue:
    require(tenant_context(router), "workspace:read")
    return roles.catalogue()


@router.get("/api/v1/roles", tags=TAGS, summary="Built-in and custom roles")
def list_roles() -> RoleList:
    require(tenant_context(router), "roles:read")
    return roles.listing(_store())


@router.post("/api/v1/roles", tags=TAGS, summary="Create a custom role", responses=CREATED)
def create_role(body: CreateRole) -> Response[Role]:
    ctx = tenant_context(router)
    require(ctx, "roles:manage")
    created = roles.create(ctx, _store(), body)
    return Response(status_code=201, body=created, content_type="application/json")


@router.get("/api/v1/roles/<role_id>", tags=TAGS, summary="One custom role")
def get_role(role_id: RoleId) -> Role:
    require(tenant_context(router), "roles:read")
    return roles.get(_store(), role_id)


@router.patch("/api/v1/roles/<role_id>", tags=TAGS, summary="Change a custom role")
def update_role(role_id: RoleId, body: UpdateRole) -> Role:
    ctx = tenant_context(router)
    require(ctx, "roles:manage")
    return roles.update(ctx, _store(), role_id, body)


@router.delete(
    "/api/v1/roles/<role_id>", tags=TAGS, summary="Delete a custom role nobody holds", responses=web.NO_CONTENT
)
def delete_role(role_id: RoleId) -> Response[None]:
    ctx = tenant_context(router)
    require(ctx, "roles:manage")
    roles.delete(ctx, _store(), role_id)
    return Response(status_code=204)
