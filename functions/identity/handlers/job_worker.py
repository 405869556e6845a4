"""Identity's job worker: the core job runtime over identity's jobs (`functions/identity/jobs/`)."""

from __future__ import annotations

from typing import Any

from functions.identity import jobs as _declared  # noqa: F401  (registers identity's jobs)
from ninefold_core.jobs import jobs_of
from ninefold_core.jobs.worker import JobsConfig, process_batch
from ninefold_core.observability import lambda_handler


@lambda_handler(JobsConfig)
def handler(event: dict[str, Any], context: Any, config: JobsConfig) -> dict[str, Any]:
    return process_batch(event, context, config, jobs=jobs_of(config.system))
