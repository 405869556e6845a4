from __future__ import annotations

from pydantic import Field

from ninefold_core.config import BaseConfig
from ninefold_core.jobs import ENV_JOB_QUEUE_URL

ENV_JOB_DLQ_URL = "JOB_DLQ_URL"


class WorkflowsConfig(BaseConfig):
    job_queue_url: str = Field(alias=ENV_JOB_QUEUE_URL, min_length=1)
    job_dlq_url: str = Field(default="", alias=ENV_JOB_DLQ_URL)
