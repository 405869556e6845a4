"""`Ninefold-Identity`: users, workspaces, sessions, and the authorizer every route uses."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
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
        self._scheduled_work()

    def _scheduled_work(self) -> None:
        """Work on a clock: the hourly usage report and the daily purge sweep, which enqueues one
        `identity.purge_workspace` job per workspace on identity's job runtime (ADR 0014)."""
        runtime = self.jobs()
        # Five minutes past: calls stamped at the hour's edge by a skewed clock are in by then.
        self._scheduled(
            "IdentityUsageReporter",
            "usage_reporter",
            events.Schedule.cron(minute="5"),
            timeout_seconds=60,
            description="Reports each workspace's API calls per hour as events (billing usage)",
        )
        # Daily: deleted workspaces whose grace window ended lose their data (workspace.purged).
        sweeper = self._scheduled(
            "IdentityPurger",
            "purger",
            events.Schedule.cron(minute="30", hour="3"),
            timeout_seconds=60,
            description="Enqueues a purge job for each deleted workspace whose grace window ended",
        )
        runtime.grant_enqueue(sweeper)

    def _scheduled(
        self, name: str, handler: str, schedule: events.Schedule, *, timeout_seconds: int, description: str
    ) -> lambda_.Function:
        """A function of this system run on `schedule` (the rule's name is `<name>Schedule`)."""
        function = self.function(
            name,
            handler_path(self.system, handler),
            timeout=cdk.Duration.seconds(timeout_seconds),
            description=description,
        )
        self.grant_table_read_write(function)
        events.Rule(
            self,
            f"{name}Schedule",
            schedule=schedule,
            targets=[targets.LambdaFunction(function, retry_attempts=2)],
            description=description,
        )
        return function

    def _without_identity_source(self) -> None:
        """Leave `IdentitySource` out of the template rather than send an empty list."""
        (authorizer,) = [c for c in self.node.find_all() if isinstance(c, apigwv2.CfnAuthorizer)]
        authorizer.add_property_deletion_override("IdentitySource")
