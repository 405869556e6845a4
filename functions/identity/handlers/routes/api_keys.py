"""The workspace's API keys: list, create (the key is shown once), read, revoke."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from functions.identity.handlers.routes import web
from functions.identity.logic import api_keys
from functions.identity.models.api_keys import KEY_ID_PATTERN, ApiKeyCreated, ApiKeyInfo, ApiKeyList, CreateApiKey
from ninefold_core.http import tenant_context

router = APIGatewayHttpRouter()
TAGS = ["identity"]
CREATED: dict[int, OpenAPIResponse] = {
    201: {
        "description": "Created: the key is in `key`, shown this once",
        "content": {"application/json": {"model": ApiKeyCreated}},
    }
}
KeyId = Annotated[str, Path(pattern=KEY_ID_PATTERN)]


@router.get("/api/v1/api-keys", tags=TAGS, summary="The workspace's API keys (never their secrets)")
def list_api_keys() -> ApiKeyList:
    return api_keys.listing(web.db(router), tenant_context(router))


@router.post(
    "/api/v1/api-keys",
    tags=TAGS,
    summary="Create an API key with some of your permissions (needs a recent step-up)",
    responses=CREATED,
)
def create_api_key(body: CreateApiKey) -> Response[ApiKeyCreated]:
    created = api_keys.create(web.db(router), tenant_context(router), body)
    return Response(status_code=201, body=created, content_type="application/json")


@router.get("/api/v1/api-keys/<key_id>", tags=TAGS, summary="One of the workspace's API keys")
def get_api_key(key_id: KeyId) -> ApiKeyInfo:
    return api_keys.get(web.db(router), tenant_context(router), key_id)


@router.delete(
    "/api/v1/api-keys/<key_id>",
    tags=TAGS,
    summary="Revoke an API key (it stops working at once; revoking it again changes nothing)",
    responses=web.NO_CONTENT,
)
def revoke_api_key(key_id: KeyId) -> Response[None]:
    api_keys.revoke(web.db(router), tenant_context(router), key_id)
    return Response(status_code=204)
