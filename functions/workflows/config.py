from __future__ import annotations

from pydantic import Field

from ninefold_core.config import BaseConfig
from ninefold_core.jobs import ENV_JOB_QUEUE_URL


class WorkflowsConfig(BaseConfig):
    job_queue_url: str = Field(alias=ENV_JOB_QUEUE_URL, min_length=1)
