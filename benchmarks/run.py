"""Benchmarks: figures recorded, never asserted.

    make bench            # or: .venv/bin/python -m benchmarks.run [--only startup|imports]

Writes benchmarks/results/latest.json and benchmarks/RESULTS.md. Ratios are
measured in the same run, so a slower machine moves both sides.

* startup — `make dev` (synth included, environment installed) until the local
  cloud's first 200 on /_local/health. Target: 15 s or less.
* imports — each Lambda handler module's cold import, wall time of a fresh
  interpreter (median of N), as a ratio to `import boto3` measured alongside.
* identity — benchmarks/identity.py; workflows — benchmarks/workflows.py (jobs per second
  through the local cloud, the worker's per-job overhead in process).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
REPORT = ROOT / "benchmarks" / "RESULTS.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bench_startup(runs: int = 3, *, resynth: bool = False) -> dict[str, Any]:
    """`make dev` until the first 200; `resynth` deletes the synth stamp first (a changed tree)."""
    timings = []
    for _ in range(runs):
        if resynth:
            for stamp in (ROOT / "cdk.out").glob(".synth-*"):
                stamp.unlink()
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen(
            ["make", "dev", f"PORT={port}"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = started + 120
            while time.perf_counter() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_local/health", timeout=1) as reply:
                        if reply.status == 200:
                            timings.append(time.perf_counter() - started)
                            break
                except OSError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("the local cloud did not answer within 120 s")
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
    return {
        "runs": [round(t, 2) for t in timings],
        "median_seconds": round(statistics.median(timings), 2),
        "target_seconds": 15,
    }


def handler_modules() -> list[str]:
    modules = []
    for path in sorted((ROOT / "functions").glob("*/handlers/*.py")):
        if path.name != "__init__.py":
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    modules += ["ninefold_core.events.relay", "ninefold_core.jobs.commands"]  # core handlers (stacks/jobs.py)
    return modules


def import_seconds(module: str, runs: int) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=ROOT, env=env)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_imports(runs: int = 7) -> dict[str, Any]:
    baseline_empty = import_seconds("sys", runs)
    boto3 = import_seconds("boto3", runs) - baseline_empty
    rows = {}
    for module in handler_modules():
        seconds = import_seconds(module, runs) - baseline_empty
        rows[module] = {"ms": round(seconds * 1000, 1), "ratio_to_boto3": round(seconds / boto3, 2)}
    return {
        "interpreter_start_ms": round(baseline_empty * 1000, 1),
        "boto3_ms": round(boto3 * 1000, 1),
        "modules": rows,
        "note": "wall time of `python -c 'import X'` minus a bare interpreter start; median of runs",
    }


def render(results: dict[str, Any]) -> str:
    lines = ["# Benchmark results", "", f"Recorded {results['recorded_at']} on {results['machine']}.", ""]
    if "startup" in results:
        s = results["startup"]
        lines += [
            "## Local cloud start-up (`make dev` → first 200, environments installed)",
            "",
            f"Templates up to date: median **{s['median_seconds']} s** "
            f"(runs: {s['runs']}; target ≤ {s['target_seconds']} s).",
            "",
        ]
    if "startup_with_synth" in results:
        w = results["startup_with_synth"]
        lines += [
            f"After a change to `stacks/` (synth reruns first): median **{w['median_seconds']} s** "
            f"(runs: {w['runs']}).",
            "",
        ]
    if "authorizer" in results:
        a, p = results["authorizer"], results["argon2"]
        lines += [
            "## Identity",
            "",
            f"Authorizer, in process: median **{a['allow_median_ms']} ms** per allowed request "
            f"(p95 {a['allow_p95_ms']} ms; no credential: {a['deny_without_credential_median_ms']} ms) — {a['note']}. "
            "Each allowed request reads the session, the user, the workspace and the membership, and counts "
            f"the API call; with the opt-in cache on (a hit): median **{a.get('allow_cached_median_ms', 'n/a')} ms**.",
            "",
            f"argon2id verify ({p['parameters']}): median **{p['verify_median_ms']} ms**.",
            "",
        ]
    if "jobs_throughput" in results:
        t, o = results["jobs_throughput"], results["jobs_overhead"]
        lines += [
            "## Workflows (jobs)",
            "",
            f"Throughput through the local cloud: **{t['jobs_per_second']} jobs/s** "
            f"({t['jobs']} echo jobs in {t['seconds']} s, of which enqueuing {t['enqueue_seconds']} s) — {t['note']}.",
            "",
            f"Per-job overhead, in process: worker handler median **{o['worker_median_ms']} ms** "
            f"(p95 {o['worker_p95_ms']} ms) vs the bare job function {o['bare_median_ms']} ms: "
            f"**{o['overhead_median_ms']} ms** of framework per job — {o['note']}.",
            "",
        ]
    if "imports" in results:
        i = results["imports"]
        lines += [
            "## Handler import cost (cold, fresh interpreter)",
            "",
            f"`import boto3`: {i['boto3_ms']} ms "
            f"(interpreter start {i['interpreter_start_ms']} ms subtracted everywhere).",
            "",
            "| Module | ms | ratio to boto3 |",
            "|---|---|---|",
        ]
        lines += [f"| `{m}` | {r['ms']} | {r['ratio_to_boto3']} |" for m, r in i["modules"].items()]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["startup", "imports", "identity", "workflows"])
    args = parser.parse_args(argv)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results: dict[str, Any] = {
        **previous,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    if args.only in (None, "imports"):
        results["imports"] = bench_imports()
    if args.only in (None, "identity"):
        from benchmarks.identity import bench_argon2, bench_authorizer

        results["authorizer"] = bench_authorizer()
        results["argon2"] = bench_argon2()
    if args.only in (None, "workflows"):
        from benchmarks.workflows import bench_overhead, bench_throughput

        results["jobs_overhead"] = bench_overhead()
        results["jobs_throughput"] = bench_throughput()
    if args.only in (None, "startup"):
        results["startup"] = bench_startup()
        results["startup_with_synth"] = bench_startup(runs=2, resynth=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    REPORT.write_text(render(results))
    print(REPORT.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
