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

# What the authorizer may write, and nothing else: (leading key, attributes).
AUTHORIZER_WRITES = (
    ("P#session#*", ("pk", "sk", "last_seen_at", "ttl")),  # slide a session's idle window
    ("T#*#API_KEYS", ("pk", "sk", "last_used_at")),  # stamp an API key's last use
    ("P#usage#*", ("pk", "sk", "calls", "tenant_id", "hour", "ttl")),  # count a workspace's API call
)
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
        # Sessions and API keys live in this table; the authorizer reads them, and makes three
        # narrow writes: each to one kind of row, of named attributes only.
        self.grant_table_read(authorizer_function)
        for leading_key, attributes in AUTHORIZER_WRITES:
            authorizer_function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:UpdateItem"],
                    resources=[self.table.table_arn],
                    conditions={
                        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [leading_key]},
                        "ForAllValues:StringEquals": {"dynamodb:Attributes": list(attributes)},
                        # Nothing read back through the write beyond the attributes it may touch.
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
        self._background_work()

    def _background_work(self) -> None:
        """Identity's jobs on its own job runtime (ADR 0014): the hourly usage report and the daily
        purge sweep are platform jobs on a clock (`@job(schedule=...)` in functions/identity/jobs/),
        and the sweep enqueues one `identity.purge_workspace` per workspace due."""
        self.jobs()

    def _without_identity_source(self) -> None:
        """Leave `IdentitySource` out of the template rather than send an empty list."""
        (authorizer,) = [c for c in self.node.find_all() if isinstance(c, apigwv2.CfnAuthorizer)]
        authorizer.add_property_deletion_override("IdentitySource")
