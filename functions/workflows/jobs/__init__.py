"""The jobs the workflows worker runs. Importing this package registers them in `JOBS`.

A job module declares its jobs with `@job(...)` from `ninefold_core.jobs`; add the import below.
The CDK stack imports this package too, so the queue is sized from the same declarations.
"""

from __future__ import annotations

from functions.workflows.jobs import echo, sleep

__all__ = ["echo", "sleep"]
