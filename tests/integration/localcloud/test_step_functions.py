"""The state machine from the templates runs its Task/Retry/Catch/Wait/Choice with in-process Lambdas."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from localcloud import LocalCloud, NotIdleError
from tests.fixtures.localcloud.handlers import recorder

pytestmark = pytest.mark.integration


def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def start(cloud: LocalCloud, order: dict[str, Any], name: str) -> tuple[Any, str]:
    sfn = cloud.client("stepfunctions")
    arn = cloud.resource("Fixture-App/OrderFlow").arn
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(order))["executionArn"]
    return sfn, execution


def flaky_calls() -> int:
    return len([e for e in recorder.get("steps") if e["action"] == "flaky"])


def test_retry_backoff_and_a_three_day_wait_finish_in_seconds_under_time_warp(cloud: LocalCloud) -> None:
    sfn, execution = start(cloud, {"id": "big-1", "amount": 250}, "big-1")
    until(lambda: flaky_calls() == 1)
    cloud.clock.advance(30)  # Retry: IntervalSeconds 30
    until(lambda: flaky_calls() == 2)
    cloud.clock.advance(60)  # BackoffRate 2
    until(lambda: flaky_calls() == 3)
    time.sleep(0.3)
    with pytest.raises(NotIdleError, match="running execution"):
        cloud.wait_idle(timeout=0.5)  # parked in the three-day Wait
    cloud.clock.advance(3 * 86400)
    cloud.wait_idle(timeout=30)
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["size"] == "big"
    assert output["validated"] == {"order": {"id": "big-1", "amount": 250, "valid": True}}
    assert output["flaky"] == {"attempts": 3}
    validate = [e for e in recorder.get("steps") if e["action"] == "validate"]
    assert validate == [{"action": "validate", "order": {"id": "big-1", "amount": 250}}]


def test_a_caught_error_name_routes_to_the_catch_state(cloud: LocalCloud) -> None:
    sfn, execution = start(cloud, {"id": "bad-1", "amount": 0}, "bad-1")
    cloud.wait_idle(timeout=30)
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "Rejected"
    history = sfn.get_execution_history(executionArn=execution)["events"]
    caught = [e for e in history if e["type"] == "TaskFailed"]
    assert caught
    assert caught[0]["taskFailedEventDetails"]["error"] == "ValidationError"


def test_choice_takes_the_default_branch(cloud: LocalCloud) -> None:
    cloud.faults.inject("Fixture-App/StepsFn", result={"attempts": 0}, times=2)  # validate + flaky stubbed
    sfn, execution = start(cloud, {"id": "small-1", "amount": 5}, "small-1")
    until(lambda: len(cloud.invocations("Fixture-App/StepsFn")) >= 2)
    time.sleep(0.2)
    cloud.clock.advance(3 * 86400)
    cloud.wait_idle(timeout=30)
    assert json.loads(sfn.describe_execution(executionArn=execution)["output"])["size"] == "small"
