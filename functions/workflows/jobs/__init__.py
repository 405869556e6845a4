"""The jobs the workflows worker runs. Importing this package registers them in `JOBS`.

A job module declares its jobs with `@job(...)` from `ninefold_core.jobs`; add the import below.
`python -m scripts.job_manifests` writes `manifest.json` from them, which sizes the queue (stacks/jobs.py).
"""

from __future__ import annotations

from functions.workflows.jobs import echo, sleep

__all__ = ["echo", "sleep"]
