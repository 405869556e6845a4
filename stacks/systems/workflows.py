"""`Ninefold-Workflows`: its job runtime (queue, worker: `SystemStack.jobs()`, stacks/jobs.py),
the run API and console read model over every system's runs, schedules and multi-step workflows
(docs/workflows.md, ADR 0012, ADR 0014)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks import jobs
from stacks.constants import API_VERSION_PREFIX, EVENT_SOURCE_PREFIX, JOB_RUN_CHANGED, PROJECT, REPO_ROOT, handler_path
from stacks.nag import acknowledge
from stacks.system import Platform, SystemStack

ENV_JOB_QUEUE_URL: Final = "JOB_QUEUE_URL"  # ninefold_core.jobs.ENV_JOB_QUEUE_URL
ENV_JOB_DLQ_URL: Final = "JOB_DLQ_URL"  # functions.workflows.config.ENV_JOB_DLQ_URL
# Schedules: functions.workflows.config.ENV_SCHEDULE_GROUP / ENV_SCHEDULER_ROLE_ARN / ENV_JOB_QUEUE_ARN.
ENV_SCHEDULE_GROUP: Final = "SCHEDULE_GROUP"
ENV_SCHEDULER_ROLE_ARN: Final = "SCHEDULER_ROLE_ARN"
ENV_JOB_QUEUE_ARN: Final = "JOB_QUEUE_ARN"
ENV_SCHEDULE_DLQ_ARN: Final = "SCHEDULE_DLQ_ARN"  # functions.workflows.config.ENV_SCHEDULE_DLQ_ARN
# Multi-step workflows (docs/workflows.md#multi-step-workflows-step-functions): one STANDARD state
# machine per definition; `${StepFunctionArn}` in a definition is the step Lambda's ARN.
WORKFLOW_DEFINITIONS: Final = REPO_ROOT / "statemachines" / "workflows"
WORKFLOW_GLOB: Final = "*.asl.json"
STEP_FUNCTION_SUBSTITUTION: Final = "StepFunctionArn"
ENV_WORKFLOWS: Final = "WORKFLOWS"  # functions.workflows.config.ENV_WORKFLOWS


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


class WorkflowsStack(SystemStack):
    system = "workflows"

    def __init__(self, scope: Construct, *, platform: Platform, **kwargs: Any) -> None:
        # gsi1 all runs, gsi2 by status, gsi3 by job, gsi4 by job and status, gsi5 failed runs of
        # every tenant (operators); keys in ninefold_core/jobs/store.py.
        super().__init__(
            scope,
            platform=platform,
            table_indexes=("gsi1", "gsi2", "gsi3", "gsi4", "gsi5"),
            table_stream=True,  # the outbox (schedule.* events, ADR 0006)
            **kwargs,
        )
        self.outbox_relay()
        runtime = self.jobs(worker_id="WorkflowsWorker", handler="worker", commands=False)
        self.job_queue = runtime.queue
        longest = runtime.longest

        # The read model of every other system's runs (ADR 0014): their job runtimes announce each
        # run write as `job_run.changed`; workflows keeps the newest revision of each run.
        views = self.function(
            "WorkflowsRunViews",
            handler_path(self.system, "run_views"),
            timeout=cdk.Duration.seconds(30),
            description="Keeps the run API's view of the runs other systems' job runtimes own",
        )
        self.grant_table_read_write(views)
        self.subscribe(
            "OtherSystemsRuns",
            self.consumer("RunViewsQueue", views),
            {"detail-type": [JOB_RUN_CHANGED], "source": [{"anything-but": [f"{EVENT_SOURCE_PREFIX}{self.system}"]}]},
        )

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
        # A firing the Scheduler cannot deliver (after its retries) goes to the jobs DLQ instead of
        # being lost: it alarms there, and a redrive hands it to the worker, which reads firings.
        assert self.job_queue.dead_letter_queue is not None
        dead_letters = self.job_queue.dead_letter_queue.queue
        dead_letters.grant_send_messages(role)
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
        api.add_environment(ENV_SCHEDULE_DLQ_ARN, dead_letters.queue_arn)
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
            timeout=cdk.Duration.seconds(min(jobs.LAMBDA_MAX_TIMEOUT_SECONDS, longest + jobs.WORKER_MARGIN_SECONDS)),
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
