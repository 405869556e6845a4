"""The job manifest: what the CDK stack needs to know about the declared jobs.

The CDK environment has no pydantic and cannot import the jobs (ADR 0007), so the stack reads
`manifest.json`, which this module derives from the `@job` declarations. A unit test fails when
the file drifts from the code; regenerate with `.venv/bin/python -m functions.workflows.jobs.manifest`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from functions.workflows import jobs as _declared  # noqa: F401  (registers the jobs in JOBS)
from ninefold_core.jobs import JOBS

MANIFEST = Path(__file__).with_name("manifest.json")


def manifest() -> dict[str, Any]:
    return {
        "jobs": {
            name: {
                "queue": spec.queue,
                "timeout": spec.timeout,
                "max_attempts": spec.retry.max_attempts,
                "max_delay": spec.retry.max_delay,
                "concurrency": spec.concurrency,
            }
            for name, spec in sorted(JOBS.items())
        }
    }


def render() -> str:
    return json.dumps(manifest(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    MANIFEST.write_text(render())
    print(f"wrote {MANIFEST}")
