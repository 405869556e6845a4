"""Workflows figures: jobs per second through the local cloud, and the framework's per-job
overhead in process (the worker handler processing one message vs the bare job function).

* throughput — `POST /api/v1/runs` N echo jobs as one tenant, then `cloud.wait_idle()` until the
  queue is drained; the figure is N / (first POST → idle), checked against the run listing (every
  run succeeded). The local cloud runs each Lambda in process against moto, so this measures the
  engine's own work (API, run writes, queue, worker), not AWS latency or concurrency.
* overhead — the worker handler given an SQS event with one job message (run create, two
  transitions, Powertools batch processing; DynamoDB emulated by moto in the same process) vs
  calling the job's function `echo.fn(payload, run)` directly. An upper bound of the real per-job cost in Lambda.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from benchmarks.identity import ENV, _Context, _table

WORKFLOWS_ENV = {
    **ENV,
    "SYSTEM": "workflows",
    "POWERTOOLS_SERVICE_NAME": "workflows",
    "TABLE_NAME": "bench-workflows",
    "JOB_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-jobs",
}


def bench_throughput(jobs: int = 200) -> dict[str, Any]:
    from localcloud import LocalCloud
    from tests.support.cloud import CDK_OUT, _sign_in

    with LocalCloud(cdk_out=CDK_OUT, port=0) as cloud:
        user = _sign_in(cloud, "Bench", "usr_bench_jobs")
        started = time.perf_counter()
        for n in range(jobs):
            reply = user.api.post("/api/v1/runs", {"job": "workflows.echo", "payload": {"message": f"bench {n}"}})
            if reply.status != 202:
                raise RuntimeError(f"enqueue answered {reply.status}: {reply.text}")
        enqueued = time.perf_counter()
        cloud.wait_idle(timeout=600)
        finished = time.perf_counter()
        statuses: dict[str, int] = {}
        cursor = ""
        while True:
            page = user.api.get(f"/api/v1/runs?limit=100{'&cursor=' + cursor if cursor else ''}").json
            for item in page["items"]:
                statuses[item["status"]] = statuses.get(item["status"], 0) + 1
            cursor = page.get("cursor") or ""
            if not cursor:
                break
    if statuses.get("succeeded") != jobs:
        raise RuntimeError(f"not every run succeeded: {statuses}")
    total = finished - started
    return {
        "jobs": jobs,
        "jobs_per_second": round(jobs / total, 1),
        "seconds": round(total, 2),
        "enqueue_seconds": round(enqueued - started, 2),
        "note": "local cloud (Lambdas in process, moto); POST /api/v1/runs one by one, then wait_idle",
    }


def bench_overhead(jobs: int = 300) -> dict[str, Any]:
    os.environ.update(WORKFLOWS_ENV)
    from moto import mock_aws

    from functions.workflows.handlers import worker
    from functions.workflows.jobs.echo import EchoPayload, echo
    from ninefold_core import aws
    from ninefold_core.jobs import RunInfo, build_message
    from ninefold_core.tenant import TenantContext

    ctx = TenantContext.system("tenant-bench", "workflows")
    aws.reset_clients()
    with mock_aws():
        _table(aws.client("dynamodb"), WORKFLOWS_ENV["TABLE_NAME"])
        context = _Context()
        samples = []
        for n in range(jobs + 1):
            message = build_message("workflows.echo", EchoPayload(message=f"bench {n}"), ctx)
            record = {
                "messageId": f"m-{n}",
                "receiptHandle": f"r-{n}",
                "body": message.model_dump_json(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench-jobs",
                "awsRegion": "us-east-1",
            }
            started = time.perf_counter()
            response = worker.handler({"Records": [record]}, context)
            elapsed = (time.perf_counter() - started) * 1000
            if response != {"batchItemFailures": []}:
                raise RuntimeError(f"the worker reported a failure: {response}")
            if n:  # the first call pays the lazy imports
                samples.append(elapsed)
    aws.reset_clients()
    payload = EchoPayload(message="bench")
    info = RunInfo(run_id="run_bench", attempt=1, ctx=ctx)
    bare = []
    for _ in range(jobs):
        started = time.perf_counter()
        echo.fn(payload, info)
        bare.append((time.perf_counter() - started) * 1000)
    worker_ms, bare_ms = statistics.median(samples), statistics.median(bare)
    return {
        "jobs": jobs,
        "worker_median_ms": round(worker_ms, 2),
        "worker_p95_ms": round(sorted(samples)[int(0.95 * len(samples))], 2),
        "bare_median_ms": round(bare_ms, 4),
        "overhead_median_ms": round(worker_ms - bare_ms, 2),
        "note": "in-process, DynamoDB emulated by moto in the same process (an upper bound of the framework's work)",
    }
