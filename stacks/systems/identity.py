"""`Ninefold-Identity`: users, workspaces, sessions, and the authorizer every route uses."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import routes
from stacks.constants import handler_path
from stacks.system import Platform, SystemStack

# The authorizer slides a session's idle window: it may update these attributes of session rows
# (`P#session#<hash>`) and nothing else.
SESSION_KEY_PREFIX = "P#session#"
SESSION_TOUCH_ATTRIBUTES = ("pk", "sk", "last_seen_at", "ttl")
# argon2id at 19 MiB / t=2 is CPU-bound; Lambda's CPU share grows with memory.
API_MEMORY_MB = 1024


class IdentityStack(SystemStack):
    system = "identity"

    def __init__(self, scope: Construct, *, platform: Platform, **kwargs: Any) -> None:
        super().__init__(scope, platform=platform, table_indexes=("gsi1",), table_stream=True, **kwargs)
        self.outbox_relay()

        authorizer_function = self.function(
            "IdentityAuthorizer",
            handler_path(self.system, "authorizer"),
            timeout=cdk.Duration.seconds(5),
            description="Resolves the caller's session (bearer or cookie) to a tenant context for every API route",
        )
        # Sessions and API keys live in this table; the authorizer reads them and slides sessions.
        self.grant_table_read(authorizer_function)
        authorizer_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"],
                resources=[self.table.table_arn],
                conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{SESSION_KEY_PREFIX}*"]},
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": list(SESSION_TOUCH_ATTRIBUTES)},
                    # Nothing read back through the write beyond the attributes it may touch.
                    "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]},
                },
            )
        )
        # ...and stamps an API key's last use (its tenant row, that one attribute, at most once a minute).
        authorizer_function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"],
                resources=[self.table.table_arn],
                conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#*#API_KEYS"]},
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "last_used_at"]},
                    "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"]},
                },
            )
        )
        self.authorizer = authorizers.HttpLambdaAuthorizer(
            "IdentityAuthorizer",
            authorizer_function,
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            # No identity source: the credential is the Authorization header *or* the session
            # cookie, and API Gateway would answer 401 without calling us when a declared source is
            # missing. Without one, caching must be off (it is anyway: a cached allow would outlive
            # a revocation). ADR 0011.
            identity_source=[],
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        # The other systems receive the authorizer through their platform.
        self.platform = platform.with_authorizer(self.authorizer)

        api = self.function(
            "IdentityApi",
            handler_path(self.system, "api"),
            timeout=cdk.Duration.seconds(10),
            memory=API_MEMORY_MB,
            environment={"APP_URL": platform.site_url} if platform.site_url else None,
            description="Identity HTTP API: accounts, sessions, the caller, their workspace",
        )
        self.grant_table_read_write(api)
        self.grant_publish(api)
        # First use of the authorizer: its AWS::ApiGatewayV2::Authorizer is created here, in
        # this stack, and the other systems' routes reference it.
        self.routes(api, routes.IDENTITY.authorized)
        for route_key, reason in routes.IDENTITY.public.items():
            self.routes(api, [route_key], public_reason=reason)
        self._without_identity_source()

    def _without_identity_source(self) -> None:
        """Leave `IdentitySource` out of the template rather than send an empty list."""
        (authorizer,) = [c for c in self.node.find_all() if isinstance(c, apigwv2.CfnAuthorizer)]
        authorizer.add_property_deletion_override("IdentitySource")
