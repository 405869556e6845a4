"""The worker's EMF metrics per ended attempt (JobSucceeded, JobAttemptFailed, JobFailed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.workflows.handlers import worker
from functions.workflows.jobs.echo import EchoPayload
from ninefold_core.jobs import build_message
from ninefold_core.jobs import worker as core_worker
from ninefold_core.tenant import TenantContext
from tests.unit.workflows.test_worker import queue_url, received

A = TenantContext.system("tenant-aaaa", "workflows")
__all__ = ["queue_url"]


def emitted(captured: str) -> list[str]:
    names: list[str] = []
    for line in captured.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            names += [m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    return names


@pytest.mark.parametrize(
    ("fail_times", "receive_count", "metric"),
    [(0, 1, "JobSucceeded"), (1, 1, "JobAttemptFailed"), (10, 3, "JobFailed")],
)
def test_each_ended_attempt_is_counted(
    queue_url: str,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fail_times: int,
    receive_count: int,
    metric: str,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    message = build_message("workflows.echo", EchoPayload(message="m", fail_times=fail_times), A)
    for _ in range(receive_count):  # attempts are counted in the run: earlier receives made them
        record = received(queue_url, message.model_dump_json())
        capsys.readouterr()
        worker.handler({"Records": [record]}, lambda_context)
    names = emitted(capsys.readouterr().out)
    assert metric in names
    assert set(names) & set(core_worker.METRIC_OF.values()) == {metric}
