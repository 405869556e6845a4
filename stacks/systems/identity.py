"""`Ninefold-Identity`: users, workspaces, sessions, and the authorizer every route uses."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from constructs import Construct

from stacks.constants import API_VERSION_PREFIX, AUTHORIZATION_HEADER, handler_path
from stacks.system import Platform, SystemStack


class IdentityStack(SystemStack):
    system = "identity"

    def __init__(self, scope: Construct, *, platform: Platform, **kwargs: Any) -> None:
        super().__init__(scope, platform=platform, table_indexes=("gsi1",), table_stream=True, **kwargs)
        self.outbox_relay()

        authorizer_function = self.function(
            "IdentityAuthorizer",
            handler_path(self.system, "authorizer"),
            timeout=cdk.Duration.seconds(5),
            description="Resolves the caller's session to a tenant context for every API route",
        )
        # Sessions and API keys live in this table; the authorizer only reads them.
        self.grant_table_read(authorizer_function)
        self.authorizer = authorizers.HttpLambdaAuthorizer(
            "IdentityAuthorizer",
            authorizer_function,
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            identity_source=[f"$request.header.{AUTHORIZATION_HEADER}"],
            # No caching until the authorizer's context is settled: a cached deny outlives a login.
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        # The other systems receive the authorizer through their platform.
        self.platform = platform.with_authorizer(self.authorizer)

        api = self.function(
            "IdentityApi",
            handler_path(self.system, "api"),
            timeout=cdk.Duration.seconds(10),
            description="Identity HTTP API: the caller, their workspace",
        )
        self.grant_table_read_write(api)
        self.grant_publish(api)
        # First use of the authorizer: its AWS::ApiGatewayV2::Authorizer is created here, in
        # this stack, and the other systems' routes reference it.
        self.routes(
            api,
            [
                f"GET {API_VERSION_PREFIX}/me",
                f"GET {API_VERSION_PREFIX}/workspace",
                f"PATCH {API_VERSION_PREFIX}/workspace",
            ],
        )
