"""The in-process Lambda runtime: isolation, errors, timeouts, faults, async retries."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.clock import WarpClock
from localcloud.faults import FaultInjector
from localcloud.lambdas import FunctionSpec, LambdaRegistry

pytestmark = pytest.mark.unit

RUNTIME = "tests.fixtures.localcloud.handlers.runtime"
RUNTIME_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def spec(name: str, handler: str, **changes: Any) -> FunctionSpec:
    values: dict[str, Any] = dict(
        key=f"S/{name}",
        logical_id=name,
        stack="S",
        cdk_path=f"S/{name}/Resource",
        name=f"fn-{name}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:fn-{name}",
        handler=handler,
        timeout=5,
        memory=256,
    )
    values.update(changes)
    return FunctionSpec(**values)


@pytest.fixture
def clock() -> WarpClock:
    return WarpClock()


@pytest.fixture
def registry(clock: WarpClock) -> Iterator[LambdaRegistry]:
    holder: dict[str, LambdaRegistry] = {}
    faults = FaultInjector(lambda target: holder["r"].resolve(target).spec.key)  # type: ignore[union-attr]
    registry = LambdaRegistry(clock, faults, RUNTIME_ENV, Path.cwd())
    holder["r"] = registry
    registry.add(spec("One", f"{RUNTIME}.env", environment={"SHARED": "one"}))
    registry.add(
        spec(
            "Two",
            f"{RUNTIME}.env",
            environment={"SHARED": "two", "ONLY_OTHER": "x", "POWERTOOLS_TRACE_DISABLED": "false"},
            memory=512,
        )
    )
    registry.add(spec("Slow", f"{RUNTIME}.slow", timeout=0.2))
    registry.add(spec("Bad", f"{RUNTIME}.unmarshallable"))
    registry.add(spec("Missing", "nowhere.handler"))
    registry.add(spec("NoAttr", f"{RUNTIME}.nope"))
    yield registry
    registry.shutdown()


def test_each_function_sees_only_its_own_environment_even_concurrently(registry: LambdaRegistry) -> None:
    results: dict[str, Any] = {}

    def call(name: str) -> None:
        results[name] = registry.invoke(name, {"sleep": 0.2}).payload

    threads = [threading.Thread(target=call, args=(n,)) for n in ("One", "Two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    one, two = results["One"], results["Two"]
    assert (one["shared"], one["getenv"], one["only_other"]) == ("one", "one", None)
    assert (two["shared"], two["only_other"]) == ("two", "x")
    assert one["function"] == "fn-One"
    assert two["memory"] == "512"
    assert one["local"] == "1"
    assert one["trace_disabled"] == "true"
    assert two["trace_disabled"] == "false"
    assert one["endpoint"] == "http://127.0.0.1:1"  # boto3 reads the invocation's AWS_ENDPOINT_URL


def test_the_context_object_looks_like_lambdas(registry: LambdaRegistry) -> None:
    result = registry.invoke("One", {}).payload
    assert result["memory_limit"] == 256
    assert result["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn-One"
    assert 0 < result["remaining_ms"] <= 5000


def test_one_invocation_at_a_time_per_function(registry: LambdaRegistry) -> None:
    runs: list[dict[str, float]] = []

    def call() -> None:
        runs.append(registry.invoke("S/Slow", {"sleep": 0.1}).payload)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = sorted(runs, key=lambda r: r["started"])
    assert second["started"] >= first["ended"]


def test_a_run_longer_than_the_timeout_is_reported_as_timed_out(registry: LambdaRegistry) -> None:
    result = registry.invoke("Slow", {"sleep": 0.3})
    assert not result.ok
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 0.20 seconds" in result.payload["errorMessage"]


def test_runtime_errors_have_the_python_runtimes_types(registry: LambdaRegistry) -> None:
    assert registry.invoke("Bad", {}).payload["errorType"] == "Runtime.MarshalError"
    missing = registry.invoke("Missing", {}).payload
    assert missing["errorType"] == "Runtime.ImportModuleError"
    assert missing["stackTrace"] == []
    assert registry.invoke("NoAttr", {}).payload["errorType"] == "Runtime.HandlerNotFound"
    assert registry.invoke("One", {"sleep": "not-a-number"}).payload["errorType"] == "ValueError"


def test_events_must_be_json(registry: LambdaRegistry) -> None:
    assert registry.invoke("One", {"x": {1, 2}}).payload["errorType"] == "TypeError"


def test_faults_fail_the_next_invocations_then_stop(registry: LambdaRegistry) -> None:
    class Boom(Exception):
        pass

    registry.faults.inject("One", exc=Boom("injected"), times=2)
    errors = [registry.invoke("One", {}).payload for _ in range(3)]
    assert [e.get("errorType") for e in errors[:2]] == ["Boom", "Boom"]
    assert errors[0]["errorMessage"] == "injected"
    assert errors[2]["shared"] == "one"
    registry.faults.inject("One", result={"stubbed": True})
    assert registry.invoke("One", {}).payload == {"stubbed": True}
    registry.faults.clear()
    assert registry.invoke("One", {}).payload["shared"] == "one"


def test_functions_resolve_by_name_arn_with_qualifier_logical_id_and_path(registry: LambdaRegistry) -> None:
    for target in (
        "fn-One",
        "arn:aws:lambda:us-east-1:123456789012:function:fn-One:$LATEST",
        "One",
        "S/One",
        "S/One/Resource",
    ):
        assert registry.resolve(target).spec.key == "S/One"  # type: ignore[union-attr]
    assert registry.resolve("fn-One:live").spec.key == "S/One"  # type: ignore[union-attr]
    assert registry.resolve("nobody") is None


def test_moto_invoke_requests_get_function_error_headers(registry: LambdaRegistry) -> None:
    headers: dict[str, Any] = {}
    body = registry.handle_moto_invoke("fn-Missing", b"{}", {"X-Amz-Invocation-Type": "RequestResponse"}, headers)
    assert headers["x-amz-function-error"] == "Unhandled"
    assert json.loads(body)["errorType"] == "Runtime.ImportModuleError"
    ok_headers: dict[str, Any] = {}
    body = registry.handle_moto_invoke("fn-One", b"", {}, ok_headers)
    assert "x-amz-function-error" not in ok_headers
    assert json.loads(body)["shared"] == "one"


def test_async_failures_are_retried_on_the_warp_clock_then_sent_to_the_destination(clock: WarpClock) -> None:
    faults = FaultInjector(lambda target: "S/Fail")
    registry = LambdaRegistry(clock, faults, {}, Path.cwd())
    delivered: list[tuple[str, Any]] = []
    registry.send_to_arn = lambda arn, record: delivered.append((arn, record))
    registry.add(spec("Fail", f"{RUNTIME}.env", on_failure="arn:aws:sqs:us-east-1:123456789012:dlq"))
    faults.inject("Fail", exc=RuntimeError("always"))
    try:
        registry.invoke_async("Fail", {"n": 1})
        _until(lambda: len(registry.history) == 1)
        assert any("async retry 1" in reason for reason in registry.busy())
        clock.advance(60)
        _until(lambda: len(registry.history) == 2)
        clock.advance(120)
        _until(lambda: delivered != [])
        arn, record = delivered[0]
        assert arn.endswith(":dlq")
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 3
        assert record["requestPayload"] == {"n": 1}
        assert record["responsePayload"]["errorMessage"] == "always"
        assert record["responseContext"]["functionError"] == "Unhandled"
    finally:
        registry.shutdown()


def test_two_functions_sharing_a_handler_module_get_separate_module_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: WarpClock
) -> None:
    package = tmp_path / "sharedpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        textwrap.dedent(
            """
            import os
            NAME_AT_IMPORT = os.environ["WHO"]
            def handler(event, context):
                return NAME_AT_IMPORT
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = LambdaRegistry(clock, FaultInjector(str), {}, tmp_path)
    registry.add(spec("A", "sharedpkg.handler.handler", environment={"WHO": "a"}))
    registry.add(spec("B", "sharedpkg.handler.handler", environment={"WHO": "b"}))
    try:
        assert registry.invoke("A", {}).payload == "a"
        assert registry.invoke("B", {}).payload == "b"
        assert registry.invoke("A", {}).payload == "a"
    finally:
        registry.shutdown()
        for name in [m for m in sys.modules if "sharedpkg" in m]:
            del sys.modules[name]


def _until(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)
