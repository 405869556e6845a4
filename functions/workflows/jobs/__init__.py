"""The jobs the workflows worker runs. Importing this package registers them in `JOBS`.

A job module declares its jobs with `@job(...)` from `ninefold_core.jobs`; add the import below.
`python -m scripts.job_manifests` writes `manifest.json` from them, which sizes the queue (stacks/jobs.py).
"""

from __future__ import annotations

from typing import Any

from functions.workflows.jobs import echo, sleep
from ninefold_core.jobs import JobSpec, jobs_of

__all__ = ["echo", "own", "sleep"]


def own() -> dict[str, JobSpec[Any]]:
    """Workflows' own jobs: what workspaces may enqueue (run API, schedules, workflow steps) and
    what its worker runs. Other systems' jobs run in their own workers (ADR 0014)."""
    return jobs_of("workflows")
