from __future__ import annotations

from pydantic import Field

from ninefold_core.config import BaseConfig
from ninefold_core.jobs.worker import JobsConfig

ENV_JOB_DLQ_URL = "JOB_DLQ_URL"
# Schedules (the API only): the stage's Scheduler group, the role it assumes, the jobs queue's ARN.
ENV_SCHEDULE_GROUP = "SCHEDULE_GROUP"
ENV_SCHEDULER_ROLE_ARN = "SCHEDULER_ROLE_ARN"
ENV_JOB_QUEUE_ARN = "JOB_QUEUE_ARN"
# Where the Scheduler puts a firing it could not deliver (the jobs DLQ).
ENV_SCHEDULE_DLQ_ARN = "SCHEDULE_DLQ_ARN"
# Multi-step workflows (the API only): JSON {name: {"arn", "description", "steps"}} from the stack.
ENV_WORKFLOWS = "WORKFLOWS"


class WorkflowsConfig(JobsConfig):
    job_dlq_url: str = Field(default="", alias=ENV_JOB_DLQ_URL)
    schedule_group: str = Field(default="", alias=ENV_SCHEDULE_GROUP)
    scheduler_role_arn: str = Field(default="", alias=ENV_SCHEDULER_ROLE_ARN)
    job_queue_arn: str = Field(default="", alias=ENV_JOB_QUEUE_ARN)
    schedule_dlq_arn: str = Field(default="", alias=ENV_SCHEDULE_DLQ_ARN)
    workflows: str = Field(default="{}", alias=ENV_WORKFLOWS)


class RunViewsConfig(BaseConfig):
    """The read model's consumer needs only the base (its table)."""
