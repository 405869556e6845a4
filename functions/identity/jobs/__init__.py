"""Identity's jobs, run by identity's job worker (`handlers/job_worker.py`, ADR 0014). Importing
this package registers them; `python -m scripts.job_manifests` writes `manifest.json`, which
sizes identity's jobs queue and worker (`SystemStack.jobs()`)."""

from __future__ import annotations

from functions.identity.jobs import purge, usage

__all__ = ["purge", "usage"]
