from __future__ import annotations

from pydantic import Field

from ninefold_core.config import BaseConfig
from ninefold_core.jobs import ENV_JOB_QUEUE_URL

ENV_JOB_DLQ_URL = "JOB_DLQ_URL"
# Schedules (the API only): the stage's Scheduler group, the role it assumes, the jobs queue's ARN.
ENV_SCHEDULE_GROUP = "SCHEDULE_GROUP"
ENV_SCHEDULER_ROLE_ARN = "SCHEDULER_ROLE_ARN"
ENV_JOB_QUEUE_ARN = "JOB_QUEUE_ARN"
ENV_TENANT_MAX_IN_FLIGHT = "TENANT_MAX_IN_FLIGHT"
# Multi-step workflows (the API only): JSON {name: {"arn", "description", "steps"}} from the stack.
ENV_WORKFLOWS = "WORKFLOWS"
# Runs of one tenant in flight at once, across its jobs (ADR 0013); each job also has its own limit.
DEFAULT_TENANT_MAX_IN_FLIGHT = 10


class WorkflowsConfig(BaseConfig):
    job_queue_url: str = Field(alias=ENV_JOB_QUEUE_URL, min_length=1)
    job_dlq_url: str = Field(default="", alias=ENV_JOB_DLQ_URL)
    schedule_group: str = Field(default="", alias=ENV_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(default="", alias=ENV_SCHEDULER_ROLE_ARN)
    job_queue_arn: str = Field(default="", alias=ENV_JOB_QUEUE_ARN)
    tenant_max_in_flight: int = Field(default=DEFAULT_TENANT_MAX_IN_FLIGHT, alias=ENV_TENANT_MAX_IN_FLIGHT, ge=1)
    workflows: str = Field(default="{}", alias=ENV_WORKFLOWS)
