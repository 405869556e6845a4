"""`Ninefold-Workflows`: the jobs queue and worker, and the run API (docs/workflows.md, ADR 0012).

The queue is sized from the job declarations (via `functions/workflows/jobs/manifest.json`,
derived from the `@job` decorators and checked by a unit test): the worker takes batches of up to
`WORKER_BATCH_SIZE` messages and its timeout is that many of the longest job plus a margin, the
visibility timeout is `VISIBILITY_TIMEOUT_FACTOR` times that (a whole batch fits), and
maxReceiveCount is the most attempts any job declares plus `RECEIVE_SLACK`, so a job's last
attempt is always made before SQS dead-letters its message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.constants import API_VERSION_PREFIX, FUNCTIONS_DIR, PROJECT, REPO_ROOT, handler_path
from stacks.nag import acknowledge
from stacks.system import Platform, SystemStack

JOB_MANIFEST: Final = FUNCTIONS_DIR / "workflows" / "jobs" / "manifest.json"
RUNBOOK_JOBS: Final = "runbooks/jobs.md"
ENV_JOB_QUEUE_URL: Final = "JOB_QUEUE_URL"  # ninefold_core.jobs.ENV_JOB_QUEUE_URL
ENV_JOB_DLQ_URL: Final = "JOB_DLQ_URL"  # functions.workflows.config.ENV_JOB_DLQ_URL
# Bookkeeping around the job itself (run record reads/writes, visibility change).
WORKER_MARGIN_SECONDS: Final = 10
# Messages per worker invocation (partial batch failures; ADR 0013), capped by the Lambda limit.
WORKER_BATCH_SIZE: Final = 10
LAMBDA_MAX_TIMEOUT_SECONDS: Final = 900
# Receives beyond the most attempts before SQS moves a message to the DLQ (ADR 0013).
RECEIVE_SLACK: Final = 2
DEFAULT_QUEUE: Final = "default"
# Schedules: functions.workflows.config.ENV_SCHEDULE_GROUP / ENV_SCHEDULER_ROLE_ARN / ENV_JOB_QUEUE_ARN.
ENV_SCHEDULE_GROUP: Final = "SCHEDULE_GROUP"
ENV_SCHEDULER_ROLE_ARN: Final = "SCHEDULER_ROLE_ARN"
ENV_JOB_QUEUE_ARN: Final = "JOB_QUEUE_ARN"
# JobFailed / (JobSucceeded + JobFailed), EMF from the worker (functions/workflows/handlers/worker.py).
METRICS_NAMESPACE: Final = "Ninefold"  # ninefold_core.observability.metrics
FAILURE_RATE_PERCENT: Final = 20
FAILURE_RATE_MIN_RUNS: Final = 5
# Multi-step workflows (docs/workflows.md#multi-step-workflows-step-functions): one STANDARD state
# machine per definition; `${StepFunctionArn}` in a definition is the step Lambda's ARN.
WORKFLOW_DEFINITIONS: Final = REPO_ROOT / "statemachines" / "workflows"
WORKFLOW_GLOB: Final = "*.asl.json"
STEP_FUNCTION_SUBSTITUTION: Final = "StepFunctionArn"
ENV_WORKFLOWS: Final = "WORKFLOWS"  # functions.workflows.config.ENV_WORKFLOWS


def queue_policy(manifest: dict[str, Any], queue: str = DEFAULT_QUEUE) -> tuple[int, int]:
    """(longest job timeout, most attempts) on `queue`."""
    jobs = [j for j in manifest["jobs"].values() if j["queue"] == queue]
    if not jobs:
        raise ValueError(f"no job is declared on queue {queue!r}")
    return max(int(j["timeout"]) for j in jobs), max(int(j["max_attempts"]) for j in jobs)


def schedule_group_name(stage: str) -> str:
    """The stage's EventBridge Scheduler group for tenants' schedules."""
    return f"{PROJECT}-{stage}-workflows"


def workflow_definitions(directory: Path = WORKFLOW_DEFINITIONS) -> dict[str, dict[str, Any]]:
    """`workflows.<stem>` -> the parsed ASL of every `statemachines/workflows/*.asl.json`."""
    return {
        f"workflows.{path.name.removesuffix('.asl.json')}": json.loads(path.read_text())
        for path in sorted(directory.glob(WORKFLOW_GLOB))
    }


def workflow_steps(definition: dict[str, Any]) -> list[dict[str, str]]:
    """The job steps (Task states whose Payload names a `job`), as the API lists them
    (functions.workflows.logic.workflow_runs.steps_of reads them the same way)."""
    steps = []
    for name, state in definition["States"].items():
        payload = (state.get("Parameters") or {}).get("Payload") or {}
        if state.get("Type") == "Task" and "job" in payload:
            steps.append({"step": name, "job": payload["job"], "payload_path": payload.get("payload.$", "$")})
    return steps


def worker_batch_size(longest: int) -> int:
    """Messages per worker invocation: up to WORKER_BATCH_SIZE, fewer when that many of the longest
    job would not fit in one Lambda invocation (900 s)."""
    return max(1, min(WORKER_BATCH_SIZE, (LAMBDA_MAX_TIMEOUT_SECONDS - WORKER_MARGIN_SECONDS) // longest))


def worker_timeout(longest: int, batch: int) -> int:
    """A whole batch of the longest job, one after the other, plus bookkeeping."""
    return batch * longest + WORKER_MARGIN_SECONDS


class WorkflowsStack(SystemStack):
    system = "workflows"

    def __init__(self, scope: Construct, *, platform: Platform, **kwargs: Any) -> None:
        # gsi1 all runs, gsi2 by status, gsi3 by job, gsi4 by job and status, gsi5 failed runs of
        # every tenant (operators); keys in functions/workflows/dal/runs.py.
        super().__init__(
            scope,
            platform=platform,
            table_indexes=("gsi1", "gsi2", "gsi3", "gsi4", "gsi5"),
            table_stream=True,  # the outbox (schedule.* events, ADR 0006)
            **kwargs,
        )
        self.outbox_relay()
        longest, attempts = queue_policy(json.loads(JOB_MANIFEST.read_text()))
        batch = worker_batch_size(longest)

        worker = self.function(
            "WorkflowsWorker",
            handler_path(self.system, "worker"),
            timeout=cdk.Duration.seconds(worker_timeout(longest, batch)),
            description="Runs one attempt of a job per message; backoff by message visibility",
        )
        self.grant_table_read_write(worker)
        # A batch's attempts run one after the other: the worker's timeout covers `batch` times the
        # longest job (plus bookkeeping), and the queue's visibility (6 x the timeout, `consumer`)
        # covers a whole batch, so no message of a live batch is redelivered.
        # Attempts are counted in the run (ADR 0013); a few receives carry none (a crashed batch that
        # never reached the record, a duplicate), hence the slack before SQS dead-letters a message.
        self.job_queue = self.consumer(
            "JobQueue", worker, batch_size=batch, max_receive_count=attempts + RECEIVE_SLACK
        )
        self.job_queue.grant(worker, "sqs:ChangeMessageVisibility")
        # Fairness (ADR 0013): a deferred message is sent again with a delay, then deleted.
        self.job_queue.grant_send_messages(worker)
        worker.add_environment(ENV_JOB_QUEUE_URL, self.job_queue.queue_url)

        alarm = self.node.find_child("JobQueueDeadLettersAlarm").node.default_child
        assert isinstance(alarm, cloudwatch.CfnAlarm)
        alarm.alarm_description = (
            f"{self.system}/JobQueue: job runs failed all their attempts (or were invalid) and their "
            f"messages wait in the dead-letter queue. Runbook: {RUNBOOK_JOBS}"
        )

        self.failure_rate_alarm()

        api = self.function(
            "WorkflowsApi",
            handler_path(self.system, "api"),
            timeout=cdk.Duration.seconds(10),
            environment={ENV_JOB_QUEUE_URL: self.job_queue.queue_url},
            description="Workflows HTTP API: enqueue declared jobs, read, cancel and replay runs, dead letters",
        )
        self.grant_table_read_write(api)
        self.job_queue.grant_send_messages(api)
        # Dead letters: replay removes the run's message; the operator redrive moves them all back.
        assert self.job_queue.dead_letter_queue is not None
        dead_letters = self.job_queue.dead_letter_queue.queue
        api.add_environment(ENV_JOB_DLQ_URL, dead_letters.queue_url)
        dead_letters.grant_consume_messages(api)
        self.routes(
            api,
            [
                f"GET {API_VERSION_PREFIX}/jobs",
                f"POST {API_VERSION_PREFIX}/runs",
                f"GET {API_VERSION_PREFIX}/runs",
                f"GET {API_VERSION_PREFIX}/runs/{{run_id}}",
                f"POST {API_VERSION_PREFIX}/runs/{{run_id}}/cancel",
                f"POST {API_VERSION_PREFIX}/runs/{{run_id}}/replay",
                f"GET {API_VERSION_PREFIX}/dead-letters",
                f"GET {API_VERSION_PREFIX}/dead-letters/{{run_id}}",
                f"POST {API_VERSION_PREFIX}/dead-letters/redrive",
                f"GET {API_VERSION_PREFIX}/admin/runs",
            ],
        )
        self.schedules(api)
        self.workflows(api, longest)

    def failure_rate_alarm(self) -> cloudwatch.Alarm:
        """Runs failing for good, as a share of the runs that ended, over 15 minutes (with a
        minimum volume, so that one failure among two runs does not page)."""

        def metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": self.system},
                statistic=cloudwatch.Stats.SUM,
                period=cdk.Duration.minutes(15),
            )

        rate = cloudwatch.MathExpression(
            expression=f"IF((ok + failed) >= {FAILURE_RATE_MIN_RUNS}, 100 * failed / (ok + failed), 0)",
            using_metrics={"ok": metric("JobSucceeded"), "failed": metric("JobFailed")},
            label="Job failure rate (%)",
            period=cdk.Duration.minutes(15),
        )
        alarm = cloudwatch.Alarm(
            self,
            "JobFailureRateAlarm",
            metric=rate,
            threshold=FAILURE_RATE_PERCENT,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"{self.system}: more than {FAILURE_RATE_PERCENT}% of the job runs that ended in 15 minutes "
                f"failed every attempt (at least {FAILURE_RATE_MIN_RUNS} runs). Runbook: {RUNBOOK_JOBS}"
            ),
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.platform.alarms_topic))
        return alarm

    def schedules(self, api: lambda_.Function) -> scheduler.CfnScheduleGroup:
        """Per-tenant schedules (docs/workflows.md#schedules): the stage's Scheduler group, the role
        the Scheduler assumes to send a firing to the jobs queue, and what the API may do with them."""
        group = scheduler.CfnScheduleGroup(self, "Schedules", name=schedule_group_name(self.stage))
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            ),
            description=f"{self.system}: EventBridge Scheduler sends schedule firings to the jobs queue",
        )
        self.job_queue.grant_send_messages(role)
        schedules_arn = self.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{group.name}/*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        api.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule",
                ],
                resources=[schedules_arn],
            )
        )
        role.grant_pass_role(api)
        api.add_environment(ENV_SCHEDULE_GROUP, group.ref)
        api.add_environment(ENV_SCHEDULER_ROLE_ARN, role.role_arn)
        api.add_environment(ENV_JOB_QUEUE_ARN, self.job_queue.queue_arn)
        policy = api.role.node.try_find_child("DefaultPolicy") if api.role is not None else None
        assert policy is not None
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/"
            f"{group.name}/*]",
            "Schedules are created at run time, one per tenant schedule, so their names are not known at "
            "deploy time; the wildcard is limited to this stage's schedule group.",
        )
        self.routes(
            api,
            [
                f"POST {API_VERSION_PREFIX}/schedules",
                f"GET {API_VERSION_PREFIX}/schedules",
                f"GET {API_VERSION_PREFIX}/schedules/{{schedule_id}}",
                f"PATCH {API_VERSION_PREFIX}/schedules/{{schedule_id}}",
                f"DELETE {API_VERSION_PREFIX}/schedules/{{schedule_id}}",
            ],
        )
        return group

    def workflows(self, api: lambda_.Function, longest: int) -> dict[str, sfn.StateMachine]:
        """Multi-step workflows (docs/workflows.md#multi-step-workflows-step-functions): the step
        Lambda every Task state invokes, one STANDARD state machine per definition in
        `statemachines/workflows/` (its role may invoke the step Lambda and nothing else), and
        what the API may do with their executions."""
        step = self.function(
            "WorkflowStep",
            handler_path(self.system, "step"),
            timeout=cdk.Duration.seconds(min(LAMBDA_MAX_TIMEOUT_SECONDS, longest + WORKER_MARGIN_SECONDS)),
            description="Runs one attempt of one workflow step (a declared job) and records it",
        )
        self.grant_table_read_write(step)
        machines: dict[str, sfn.StateMachine] = {}
        catalogue: dict[str, Any] = {}
        for name, definition in workflow_definitions().items():
            id = "Workflow" + "".join(part.capitalize() for part in name.split(".")[-1].replace("-", "_").split("_"))
            log_group = logs.LogGroup(
                self, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=self.removal_policy
            )
            role = iam.Role(
                self,
                f"{id}Role",
                assumed_by=iam.ServicePrincipal(
                    "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": self.account}}
                ),
                description=f"{self.system}/{name}: invokes the workflow step Lambda, nothing else",
            )
            role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[step.function_arn]))
            machine = sfn.StateMachine(
                self,
                id,
                definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
                definition_substitutions={STEP_FUNCTION_SUBSTITUTION: step.function_arn},
                state_machine_type=sfn.StateMachineType.STANDARD,
                role=role,
                logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
                tracing_enabled=True,
                comment=str(definition.get("Comment", ""))[:256] or None,
                removal_policy=self.removal_policy,
            )
            machines[name] = machine
            policy = role.node.try_find_child("DefaultPolicy")
            assert policy is not None
            acknowledge(
                policy,
                "AwsSolutions-IAM5[Resource::*]",
                "Step Functions logging (logs:CreateLogDelivery and the other vended-log delivery actions) and "
                "X-Ray tracing support no resource-level permissions, so Resource must be '*'. Lambda is "
                "limited to the step function's ARN.",
            )
            executions = self.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{machine.state_machine_name}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            )
            api.add_to_role_policy(
                iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine.state_machine_arn])
            )
            api.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions]
                )
            )
            api_policy = api.role.node.try_find_child("DefaultPolicy") if api.role is not None else None
            machine_resource = machine.node.default_child
            assert api_policy is not None
            assert isinstance(machine_resource, cdk.CfnElement)
            acknowledge(
                api_policy,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"<{self.get_logical_id(machine_resource)}.Name>:*]",
                "Executions are started at run time, one per workflow run, so their names are not known at deploy "
                "time; the wildcard is limited to this state machine's executions (Describe/StopExecution).",
            )
            catalogue[name] = {
                "arn": machine.state_machine_arn,
                "description": str(definition.get("Comment", "")),
                "steps": workflow_steps(definition),
            }
        api.add_environment(ENV_WORKFLOWS, self.to_json_string(catalogue))
        self.routes(
            api,
            [
                f"GET {API_VERSION_PREFIX}/workflows",
                f"POST {API_VERSION_PREFIX}/workflow-runs",
                f"GET {API_VERSION_PREFIX}/workflow-runs",
                f"GET {API_VERSION_PREFIX}/workflow-runs/{{execution_id}}",
                f"POST {API_VERSION_PREFIX}/workflow-runs/{{execution_id}}/cancel",
            ],
        )
        return machines
