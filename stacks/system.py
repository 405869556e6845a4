"""`SystemStack`: what every Ninefold system stands on, and the helpers systems build with.

A system stack owns one table, its functions (each with its own role and log group), their
routes on the shared HTTP API, its queues and its rules on the shared bus. The foundation's
resources arrive through `Platform`; CDK turns each use into a cross-stack export/import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import bundling, jobs
from stacks.constants import (
    API_PATH_PREFIX,
    DEFAULT_MEMORY_MB,
    DLQ_RETENTION_DAYS,
    ENV_EVENT_BUS_NAME,
    ENV_STAGE,
    ENV_SYSTEM,
    ENV_TABLE_NAME,
    EVENT_SOURCE_PREFIX,
    FUNCTIONS_PACKAGE,
    LAMBDA_PYTHON_VERSION,
    OUTBOX_KIND,
    OUTBOX_RELAY_HANDLER,
    POWERTOOLS_LOG_LEVEL,
    POWERTOOLS_METRICS_NAMESPACE,
    PROD_STAGE,
    RUNBOOK_DEAD_LETTERS,
    RUNBOOK_OUTBOX,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
    VISIBILITY_TIMEOUT_FACTOR,
    stack_name,
)
from stacks.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_11
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
ARCHITECTURE = lambda_.Architecture.ARM_64
assert RUNTIME.name == f"python{LAMBDA_PYTHON_VERSION}", "runtime and bundled .pyc must agree"

# Query/Get only: conventions forbid Scan and PartiQL, so the roles cannot do them either.
TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)

# EventBridge pattern keys -> EventPattern field names.
_PATTERN_FIELDS = {
    "account": "account",
    "detail": "detail",
    "detail-type": "detail_type",
    "id": "id",
    "region": "region",
    "resources": "resources",
    "source": "source",
    "time": "time",
    "version": "version",
}


@dataclass(frozen=True)
class Platform:
    """What the foundation (and identity, for the authorizer) hands to every system stack."""

    stage: str
    bus: events.IEventBus
    http_api: apigwv2.IHttpApi
    alarms_topic: sns.ITopic
    key: kms.IKey
    authorizer: apigwv2.IHttpRouteAuthorizer | None = None
    # Where people reach the console (`https://<distribution>`), for links in emails.
    site_url: str | None = None

    @property
    def is_prod(self) -> bool:
        return self.stage == PROD_STAGE

    def with_authorizer(self, authorizer: apigwv2.IHttpRouteAuthorizer) -> Platform:
        return replace(self, authorizer=authorizer)


@dataclass(frozen=True)
class JobRuntime:
    """What `SystemStack.jobs()` made: the worker, its queue (with its DLQ) and the batch size."""

    worker: lambda_.Function
    queue: sqs.Queue
    longest: int
    batch: int

    @property
    def dead_letters(self) -> sqs.Queue:
        assert self.queue.dead_letter_queue is not None
        return self.queue.dead_letter_queue.queue  # type: ignore[return-value]

    def grant_enqueue(self, function: lambda_.Function) -> None:
        """Let `function` enqueue this system's jobs (`ninefold_core.jobs.enqueue` reads the URL)."""
        self.queue.grant_send_messages(function)
        function.add_environment(jobs.ENV_JOB_QUEUE_URL, self.queue.queue_url)


class SystemStack(cdk.Stack):
    """Base for `Ninefold-<System>` stacks. Subclasses set `system` and build in `__init__`."""

    system: ClassVar[str]

    def __init__(
        self,
        scope: Construct,
        *,
        platform: Platform,
        table_indexes: Sequence[str] = (),
        table_stream: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, stack_name(self.system), **kwargs)
        self.platform = platform
        self.stage = platform.stage
        self.table_indexes = tuple(table_indexes)
        self.removal_policy = cdk.RemovalPolicy.RETAIN if platform.is_prod else cdk.RemovalPolicy.DESTROY
        self.table = self._create_table(stream=table_stream)
        # Routes, integrations and the authorizer must be created in *this* stack: bound to the
        # foundation's HttpApi construct they would land in the foundation stack and make it
        # depend on the systems (a cycle). An imported API is a construct of this stack.
        self.http_api = apigwv2.HttpApi.from_http_api_attributes(self, "HttpApi", http_api_id=platform.http_api.api_id)
        self._integrations: dict[str, integrations.HttpLambdaIntegration] = {}

    # --- data -----------------------------------------------------------------------------------

    def _create_table(self, *, stream: bool) -> dynamodb.TableV2:
        def string(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)

        return dynamodb.TableV2(
            self,
            "Table",
            partition_key=string(TABLE_PARTITION_KEY),
            sort_key=string(TABLE_SORT_KEY),
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=self.platform.is_prod,
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if stream else None,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index, partition_key=string(f"{index}pk"), sort_key=string(f"{index}sk")
                )
                for index in self.table_indexes
            ],
            removal_policy=self.removal_policy,
        )

    def _table_resources(self) -> list[str]:
        arn = self.table.table_arn
        return [arn, *(f"{arn}/index/{index}" for index in self.table_indexes)]

    # Grants take any grantee (a function, a state machine, a scheduler role) and name the
    # table and its indexes explicitly: no `index/*`, no Scan.

    def grant_table_read(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(TABLE_READ_ACTIONS), resource_arns=self._table_resources()
        )

    def grant_table_read_write(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[*TABLE_READ_ACTIONS, *TABLE_WRITE_ACTIONS],
            resource_arns=self._table_resources(),
        )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """`events:PutEvents` on the foundation bus, nothing else."""
        self.platform.bus.grant_put_events_to(grantee)

    # --- functions ------------------------------------------------------------------------------

    @cached_property
    def code(self) -> lambda_.Code:
        return bundling.system_code(self.system)

    @cached_property
    def layers(self) -> list[lambda_.ILayerVersion]:
        # One pair of LayerVersions per system stack rather than one exported from the
        # foundation: a layer ARN changes on every dependency bump, and CloudFormation refuses to
        # change an export other stacks import. Both layers come from one bundle per process
        # (same asset hash), so this costs nothing at build or upload time.
        def layer(id: str, code: lambda_.Code, description: str) -> lambda_.LayerVersion:
            return lambda_.LayerVersion(
                self,
                id,
                code=code,
                compatible_runtimes=[RUNTIME],
                compatible_architectures=[ARCHITECTURE],
                description=description,
            )

        return [
            layer("CoreLayer", bundling.core_layer_code(), "ninefold_core: shared platform code"),
            layer("DepsLayer", bundling.deps_layer_code(), "Pinned third-party runtime dependencies"),
        ]

    def base_environment(self) -> dict[str, str]:
        return {
            ENV_STAGE: self.stage,
            ENV_SYSTEM: self.system,
            "POWERTOOLS_SERVICE_NAME": self.system,
            "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": POWERTOOLS_LOG_LEVEL,
            ENV_EVENT_BUS_NAME: self.platform.bus.event_bus_name,
            ENV_TABLE_NAME: self.table.table_name,
        }

    def function(
        self,
        id: str,
        handler: str,
        *,
        timeout: cdk.Duration,
        memory: int = DEFAULT_MEMORY_MB,
        environment: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> lambda_.Function:
        """A function with its own role that can only write its own logs and traces.

        Everything else is granted explicitly (`grant_table_read`, `grant_publish`, ...).
        """
        base = self.base_environment()
        clashes = sorted(set(base) & set(environment or {}))
        if clashes:
            raise ValueError(f"{self.system}/{id}: {clashes} are set for every function and cannot be overridden")

        role = iam.Role(
            self,
            f"{id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{self.system}/{id}: only the permissions this function needs",
        )
        log_group = logs.LogGroup(
            self,
            f"{id}Logs",
            retention=LOG_RETENTION,
            removal_policy=self.removal_policy,
        )
        function = lambda_.Function(
            self,
            id,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=self.code,
            layers=self.layers,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory,
            role=role,
            log_group=log_group,
            environment={**base, **(environment or {})},
            description=description,
        )
        # Our own role instead of AWSLambdaBasicExecutionRole: log writes scoped to one group.
        log_group.grant_write(role)

        acknowledge(
            function,
            "AwsSolutions-L1",
            f"Pinned to python{LAMBDA_PYTHON_VERSION} on purpose (ADR 0002): the bundles ship .pyc compiled "
            "by this exact minor version in unchecked-hash mode, so cold starts never recompile.",
        )
        policy = role.node.try_find_child("DefaultPolicy")
        assert policy is not None, "tracing and log grants create the default policy"
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no "
            "resource-level permissions, so Resource must be '*'.",
        )
        return function

    # --- HTTP -----------------------------------------------------------------------------------

    def routes(
        self,
        function: lambda_.IFunction,
        route_keys: Sequence[str],
        *,
        authorizer: apigwv2.IHttpRouteAuthorizer | None = None,
        public_reason: str | None = None,
    ) -> list[apigwv2.HttpRoute]:
        """Routes like `"GET /api/v1/me"` on the shared API, all served by `function`.

        Every route uses the identity authorizer unless `authorizer` says otherwise; a route is
        public only when `public_reason` says why (e.g. a webhook verified by its signature).
        """
        if public_reason is not None and authorizer is not None:
            raise ValueError("a route is either public or authorized, not both")
        if public_reason is not None:
            authorizer = apigwv2.HttpNoneAuthorizer()
        else:
            authorizer = authorizer or self.platform.authorizer
            if authorizer is None:
                raise ValueError(f"{self.system}: no authorizer; pass public_reason=... for a public route")

        integration = self._integration(function)
        created = []
        for route_key in route_keys:
            method, path = _parse_route_key(route_key)
            route = apigwv2.HttpRoute(
                self,
                _route_id(route_key),
                http_api=self.http_api,
                route_key=apigwv2.HttpRouteKey.with_(path, method),
                integration=integration,
                authorizer=authorizer,
            )
            if public_reason is not None:
                acknowledge(route, "AwsSolutions-APIG4", f"Public route {route_key}: {public_reason}")
            created.append(route)
        return created

    def _integration(self, function: lambda_.IFunction) -> integrations.HttpLambdaIntegration:
        key = function.node.path
        if key not in self._integrations:
            self._integrations[key] = integrations.HttpLambdaIntegration(
                f"{function.node.id}Integration",
                function,
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            )
        return self._integrations[key]

    # --- asynchronous work ----------------------------------------------------------------------

    def consumer(
        self,
        id: str,
        function: lambda_.Function,
        *,
        batch_size: int = 10,
        max_batching_window: cdk.Duration | None = None,
        max_receive_count: int = 3,
    ) -> sqs.Queue:
        """A queue feeding `function` in batches, with a dead-letter queue that pages someone."""
        if function.timeout is None:
            raise ValueError(f"{function.node.path} needs an explicit timeout to size the queue's visibility")
        dead_letters = sqs.Queue(
            self,
            f"{id}DeadLetters",
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            retention_period=cdk.Duration.days(DLQ_RETENTION_DAYS),
        )
        queue = sqs.Queue(
            self,
            id,
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            visibility_timeout=cdk.Duration.seconds(function.timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=dead_letters),
        )
        function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=batch_size,
                max_batching_window=max_batching_window or cdk.Duration.seconds(1),
                report_batch_item_failures=True,
            )
        )
        self.alarm(
            f"{id}DeadLettersAlarm",
            dead_letters.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            description=(
                f"{self.system}/{id}: messages failed {max_receive_count} times and wait in the "
                f"dead-letter queue. Runbook: {RUNBOOK_DEAD_LETTERS}"
            ),
        )
        return queue

    def alarm(self, id: str, metric: cloudwatch.IMetric, *, threshold: float, description: str) -> cloudwatch.Alarm:
        """An alarm that pages (the platform's alarms topic) when `metric` goes above `threshold`
        for one period; no data is fine. `description` names the runbook."""
        alarm = cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.platform.alarms_topic))
        return alarm

    def jobs(self, *, worker_id: str | None = None, handler: str = "job_worker", commands: bool = True) -> JobRuntime:
        """This system's job runtime, derived from its declared jobs (stacks/jobs.py, ADR 0014):
        queue + DLQ + worker (`functions/<system>/handlers/<handler>.py`) + the alarms, and (unless
        `commands=False`: workflows acts on its own runs directly) the consumer of the cancel and
        replay requests workflows' run API publishes for this system's runs.

        Run state lives in this system's table and its writes become `job_run.changed` events
        through the outbox relay, so the stack needs `table_stream=True` and `outbox_relay()`."""
        if self.table.table_stream_arn is None:
            raise ValueError(f"{self.system}: jobs() needs table_stream=True (run changes go out through the stream)")
        manifest = jobs.load_manifest(self.system)
        longest, attempts = jobs.queue_policy(manifest)
        batch = jobs.worker_batch_size(longest)
        worker = self.function(
            worker_id or f"{self.system.capitalize()}JobWorker",
            f"{FUNCTIONS_PACKAGE}.{self.system}.handlers.{handler}.handler",
            timeout=cdk.Duration.seconds(jobs.worker_timeout(longest, batch)),
            description=f"{self.system}: runs one attempt of a job per message; backoff by message visibility",
        )
        self.grant_table_read_write(worker)
        # A batch's attempts run one after the other: the worker's timeout covers `batch` times the
        # longest job (plus bookkeeping), and the queue's visibility (6 x the timeout, `consumer`)
        # covers a whole batch. Attempts are counted in the run (ADR 0013); a few receives carry
        # none, hence the slack before SQS dead-letters a message.
        queue = self.consumer("JobQueue", worker, batch_size=batch, max_receive_count=attempts + jobs.RECEIVE_SLACK)
        queue.grant(worker, "sqs:ChangeMessageVisibility")
        # Fairness (ADR 0013): a deferred message is sent again with a delay, then deleted.
        queue.grant_send_messages(worker)
        worker.add_environment(jobs.ENV_JOB_QUEUE_URL, queue.queue_url)
        alarm = self.node.find_child("JobQueueDeadLettersAlarm").node.default_child
        assert isinstance(alarm, cloudwatch.CfnAlarm)
        alarm.alarm_description = (
            f"{self.system}/JobQueue: job runs failed all their attempts (or were invalid) and their "
            f"messages wait in the dead-letter queue. Runbook: {jobs.RUNBOOK_JOBS}"
        )
        self._job_failure_rate_alarm()
        runtime = JobRuntime(worker=worker, queue=queue, longest=longest, batch=batch)
        if commands:
            self._job_commands(runtime)
        self._job_schedules(runtime, manifest)
        return runtime

    def _job_schedules(self, runtime: JobRuntime, manifest: Mapping[str, Any]) -> None:
        """One EventBridge Scheduler schedule per platform job declared with `schedule=` (ADR 0014):
        its firing goes to this system's jobs queue (a run of the platform tenant, minted from the
        scheduled time), or after the Scheduler's retries to the jobs DLQ."""
        scheduled = {name: spec for name, spec in manifest["jobs"].items() if spec.get("schedule")}
        if not scheduled:
            return
        role = iam.Role(
            self,
            "JobSchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
            ),
            description=f"{self.system}: EventBridge Scheduler sends its platform jobs' firings to the jobs queue",
        )
        runtime.queue.grant_send_messages(role)
        runtime.dead_letters.grant_send_messages(role)
        for name, spec in sorted(scheduled.items()):
            scheduler.CfnSchedule(
                self,
                f"JobSchedule{''.join(part.capitalize() for part in re.split(r'[._]', name))}",
                schedule_expression=spec["schedule"],
                schedule_expression_timezone=spec["timezone"],
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                description=f"{self.system}: the platform job {name}",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=runtime.queue.queue_arn,
                    role_arn=role.role_arn,
                    input=spec["firing"],
                    # The job's retries are the worker's; the Scheduler only retries delivery.
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=10, maximum_event_age_in_seconds=3600
                    ),
                    dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                        arn=runtime.dead_letters.queue_arn
                    ),
                ),
            )

    def _job_commands(self, runtime: JobRuntime) -> lambda_.Function:
        """Cancel/replay requests for this system's runs (`ninefold_core.jobs.commands`)."""
        function = self.function(
            "JobCommands",
            jobs.JOB_COMMANDS_HANDLER,
            timeout=cdk.Duration.seconds(30),
            environment={jobs.ENV_JOB_DLQ_URL: runtime.dead_letters.queue_url},
            description=f"{self.system}: cancels and replays its job runs on request from the run API",
        )
        self.grant_table_read_write(function)
        runtime.grant_enqueue(function)
        runtime.dead_letters.grant_consume_messages(function)  # a replayed run's old message leaves the DLQ
        self.subscribe(
            "JobCommandsRule",
            self.consumer("JobCommandsQueue", function),
            {
                "source": [f"{EVENT_SOURCE_PREFIX}workflows"],
                "detail-type": list(jobs.JOB_COMMANDS),
                "detail": {"data": {"system": [self.system]}},
            },
        )
        return function

    def _job_failure_rate_alarm(self) -> cloudwatch.Alarm:
        """Runs failing for good, as a share of the runs that ended, over 15 minutes (with a
        minimum volume, so that one failure among two runs does not page)."""

        def metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=jobs.METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": self.system},
                statistic=cloudwatch.Stats.SUM,
                period=cdk.Duration.minutes(15),
            )

        rate = cloudwatch.MathExpression(
            expression=f"IF((ok + failed) >= {jobs.FAILURE_RATE_MIN_RUNS}, 100 * failed / (ok + failed), 0)",
            using_metrics={"ok": metric("JobSucceeded"), "failed": metric("JobFailed")},
            label="Job failure rate (%)",
            period=cdk.Duration.minutes(15),
        )
        return self.alarm(
            "JobFailureRateAlarm",
            rate,
            threshold=jobs.FAILURE_RATE_PERCENT,
            description=(
                f"{self.system}: more than {jobs.FAILURE_RATE_PERCENT}% of the job runs that ended in 15 minutes "
                f"failed every attempt (at least {jobs.FAILURE_RATE_MIN_RUNS} runs). Runbook: {jobs.RUNBOOK_JOBS}"
            ),
        )

    def outbox_relay(self) -> lambda_.Function:
        """Forward this system's outbox rows from its table stream to the bus (ADR 0006).

        The stream is filtered to outbox inserts, so ordinary writes never invoke the relay.
        Failures are reported per record and retried; after the retries the record's position
        goes to a dead-letter queue (the row itself stays in the table for a day) and pages.
        """
        if self.table.table_stream_arn is None:
            raise ValueError(f"{self.system}: outbox_relay needs table_stream=True")
        relay = self.function(
            "OutboxRelay",
            OUTBOX_RELAY_HANDLER,
            timeout=cdk.Duration.seconds(30),
            description=f"{self.system}: relays outbox rows from the table stream to the bus",
        )
        self.grant_publish(relay)
        failures = sqs.Queue(
            self,
            "OutboxRelayFailures",
            enforce_ssl=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            retention_period=cdk.Duration.days(DLQ_RETENTION_DAYS),
        )
        acknowledge(
            failures,
            "AwsSolutions-SQS3",
            "This queue is itself the failure destination of the outbox relay's stream mapping "
            "(it holds stream positions, not messages to process), so it needs no DLQ of its own.",
        )
        relay.add_event_source(
            event_sources.DynamoEventSource(
                self.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=cdk.Duration.hours(24),
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(failures),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.is_equal("INSERT"),
                            "dynamodb": {"NewImage": {"kind": {"S": lambda_.FilterRule.is_equal(OUTBOX_KIND)}}},
                        }
                    ),
                    # Job run writes become `job_run.changed` (ADR 0014); harmless where no jobs run.
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
                            "dynamodb": {"NewImage": {"kind": {"S": lambda_.FilterRule.is_equal(jobs.RUN_KIND)}}},
                        }
                    ),
                ],
            )
        )
        self.alarm(
            "OutboxRelayFailuresAlarm",
            failures.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            description=(
                f"{self.system}: outbox rows could not be relayed to the bus after retries. Runbook: {RUNBOOK_OUTBOX}"
            ),
        )
        return relay

    def subscribe(
        self,
        id: str,
        queue: sqs.IQueue,
        pattern: Mapping[str, Any] | events.EventPattern,
        *,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> events.Rule:
        """A rule on the foundation bus delivering matching events to `queue`.

        Events EventBridge cannot deliver go to the queue's own dead-letter queue, so one alarm
        and one runbook cover both failed delivery and failed processing.
        """
        if dead_letter_queue is None and isinstance(queue, sqs.Queue) and queue.dead_letter_queue:
            dead_letter_queue = queue.dead_letter_queue.queue
        if dead_letter_queue is None:
            raise ValueError(f"{self.system}/{id}: the target queue has no dead-letter queue; pass one")
        return events.Rule(
            self,
            id,
            event_bus=self.platform.bus,
            event_pattern=pattern if isinstance(pattern, events.EventPattern) else event_pattern(pattern),
            targets=[targets.SqsQueue(queue, dead_letter_queue=dead_letter_queue)],
        )


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """A raw EventBridge pattern (`{"source": [{"prefix": "ninefold."}]}`) as an `EventPattern`.

    The typed fields only accept strings; content filters (prefix, anything-but, ...) ride
    through as tokens that render back to the same JSON.
    """
    unknown = set(pattern) - set(_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"unknown event pattern keys {sorted(unknown)}")
    fields: dict[str, Any] = {}
    for key, value in pattern.items():
        if key == "detail":
            fields["detail"] = value
        else:
            fields[_PATTERN_FIELDS[key]] = [v if isinstance(v, str) else cdk.Token.as_string(v) for v in value]
    return events.EventPattern(**fields)


_ROUTE_KEY = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/\S*)$")


def _parse_route_key(route_key: str) -> tuple[apigwv2.HttpMethod, str]:
    match = _ROUTE_KEY.match(route_key)
    if not match:
        raise ValueError(f"route key {route_key!r} must look like 'GET /api/v1/things/{{thing_id}}'")
    method, path = match["method"], match["path"]
    if method not in apigwv2.HttpMethod.__members__:
        raise ValueError(f"route key {route_key!r}: unknown method {method}")
    # CloudFront sends only /api/* to the API; any other path would be unreachable.
    if not path.startswith(API_PATH_PREFIX):
        raise ValueError(f"route key {route_key!r}: API paths start with {API_PATH_PREFIX}")
    return apigwv2.HttpMethod[method], path


def _route_id(route_key: str) -> str:
    """`GET /api/v1/audit-events/{event_id}` -> `GetApiV1AuditEventsEventIdRoute`."""
    words = re.split(r"[^A-Za-z0-9]+", route_key)
    return "".join(word[:1].upper() + word[1:].lower() for word in words if word) + "Route"
