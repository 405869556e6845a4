"""Write (or `--check`) `functions/<system>/jobs/manifest.json` for every system that declares jobs.

The CDK environment has no pydantic and cannot import the jobs (ADR 0007), so `SystemStack.jobs()`
sizes each system's queue and worker from this manifest, derived here from the `@job` decorators.
A job's name starts with its system (`identity.purge_workspace` lives in `functions/identity/jobs/`).

    .venv/bin/python -m scripts.job_manifests           # regenerate
    .venv/bin/python -m scripts.job_manifests --check   # exit 1 on drift (a unit test does the same)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from ninefold_core.jobs import JOBS, JobSpec
from ninefold_core.jobs.firing import declared_firing

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
COMMAND = ".venv/bin/python -m scripts.job_manifests"


def systems_with_jobs() -> list[str]:
    return sorted(p.parent.parent.name for p in FUNCTIONS.glob("*/jobs/__init__.py"))


def declared() -> dict[str, dict[str, JobSpec[Any]]]:
    """Every system's declared jobs, by system; a job named after another system is an error."""
    systems = systems_with_jobs()
    for system in systems:
        importlib.import_module(f"functions.{system}.jobs")
    by_system: dict[str, dict[str, JobSpec[Any]]] = {system: {} for system in systems}
    for name, spec in JOBS.items():
        system = name.split(".", 1)[0]
        if system not in by_system:
            continue  # a job a test declared on the fly
        if not spec.fn.__module__.startswith(f"functions.{system}."):
            raise ValueError(f"job {name!r} is declared in {spec.fn.__module__}, outside functions/{system}/")
        by_system[system][name] = spec
    return by_system


def manifest(jobs: dict[str, JobSpec[Any]]) -> dict[str, Any]:
    """What the stack reads: sizes for the queue and worker, and for a platform job on a clock its
    schedule and the firing the Scheduler sends (`ninefold_core.jobs.firing.declared_firing`)."""
    return {
        "jobs": {
            name: {
                "queue": spec.queue,
                "timeout": spec.timeout,
                "max_attempts": spec.retry.max_attempts,
                "max_delay": spec.retry.max_delay,
                "concurrency": spec.concurrency,
            }
            | (
                {"schedule": spec.schedule, "timezone": spec.timezone, "firing": declared_firing(spec)}
                if spec.schedule
                else {}
            )
            for name, spec in sorted(jobs.items())
        }
    }


def rendered() -> dict[Path, str]:
    """Each manifest's path and its text."""
    return {
        FUNCTIONS / system / "jobs" / "manifest.json": json.dumps(manifest(jobs), indent=2, sort_keys=True) + "\n"
        for system, jobs in declared().items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = 0
    for path, text in rendered().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"{path} is out of date: run {COMMAND}", file=sys.stderr)
                stale += 1
        else:
            path.write_text(text)
            print(f"wrote {path}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
