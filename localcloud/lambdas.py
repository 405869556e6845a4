"""Lambda functions run in this process, one invocation at a time per function.

A function is imported on its first invocation (start-up never imports handler
code) inside its own environment (see `environ.py`). Each function behaves like
a single warm Lambda instance: a lock serialises its invocations because
module-level objects (a Powertools resolver, cached clients) are not written
for concurrent use. Errors come back in the Python runtime's JSON shape, and a
run longer than the function's Timeout is reported as `Sandbox.Timedout` after
it finishes (code cannot be killed mid-flight in-process).
"""

from __future__ import annotations

import heapq
import importlib
import importlib.util
import itertools
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from localcloud import environ
from localcloud.clock import WarpClock
from localcloud.faults import FaultInjector

log = logging.getLogger("localcloud.lambda")

# Process variables a Lambda sandbox also has (PATH, locale, CA bundles); the
# rest of the developer's environment stays out of the function's view.
PASSTHROUGH = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
)
DEFAULTS = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_XRAY_SDK_ENABLED": "false",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
}
ASYNC_RETRY_DELAYS = (60.0, 120.0)  # Lambda's waits before the 1st and 2nd async retry


@dataclass
class FunctionSpec:
    key: str  # "<stack>/<logicalId>", unique
    logical_id: str
    stack: str
    cdk_path: str | None
    name: str
    arn: str
    handler: str
    runtime: str = "python3.11"
    timeout: float = 3.0
    memory: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    max_retry_attempts: int = 2
    max_event_age: float = 21600.0
    on_failure: str | None = None
    on_success: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "cdk_path": self.cdk_path,
            "name": self.name,
            "arn": self.arn,
            "handler": self.handler,
            "runtime": self.runtime,
            "timeout": self.timeout,
            "memory": self.memory,
        }


@dataclass
class InvocationResult:
    function: str
    request_id: str
    payload: Any  # the handler's return value, or the error document
    error: dict[str, Any] | None
    duration: float
    source: str

    @property
    def ok(self) -> bool:
        return self.error is None


class LambdaContext:
    """The attributes and method the Python runtime's context object has."""

    def __init__(self, spec: FunctionSpec, request_id: str, started: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = started + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LambdaError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def error_document(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    if isinstance(exc, LambdaError):  # the runtime's own errors carry no user stack
        return {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": request_id, "stackTrace": []}
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop the runtime's own frame
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


class HandlerLoader:
    """Imports handlers; a module already owned by another function gets a private copy."""

    def __init__(self) -> None:
        self._owners: dict[str, str] = {}
        self._lock = threading.Lock()

    def load(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        module_name, _, attribute = spec.handler.replace("/", ".").rpartition(".")
        if not module_name:
            raise LambdaError("Runtime.MalformedHandlerName", f"Bad handler '{spec.handler}': not enough values")
        with self._lock:
            owner = self._owners.setdefault(module_name, spec.key)
        try:
            module = importlib.import_module(module_name) if owner == spec.key else _private_copy(module_name, spec.key)
        except ImportError as exc:
            raise LambdaError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
        except SyntaxError as exc:
            raise LambdaError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise LambdaError("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'")
        return handler  # type: ignore[no-any-return]


def _private_copy(module_name: str, key: str) -> ModuleType:
    """A second function sharing a handler module gets its own module globals, as in Lambda."""
    private_name = "_localcloud_" + "".join(c if c.isalnum() else "_" for c in f"{key}_{module_name}")
    existing = sys.modules.get(private_name)
    if existing is not None:
        return existing
    found = importlib.util.find_spec(module_name)
    if found is None or not found.origin:
        raise ImportError(f"No module named '{module_name}'")
    spec = importlib.util.spec_from_file_location(private_name, found.origin)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load '{module_name}' from {found.origin}")
    module = importlib.util.module_from_spec(spec)
    module.__package__ = module_name.rpartition(".")[0]
    sys.modules[private_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(private_name, None)
        raise
    return module


class FunctionInstance:
    def __init__(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self.env = env
        self.lock = threading.Lock()
        self.handler: Callable[[Any, Any], Any] | None = None
        self.invocations = 0


class LambdaRegistry:
    def __init__(
        self,
        clock: WarpClock,
        faults: FaultInjector,
        runtime_env: Mapping[str, str],
        code_root: Path,
        max_workers: int = 8,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.runtime_env = dict(runtime_env)
        self.code_root = code_root
        self.functions: dict[str, FunctionInstance] = {}
        self._aliases: dict[str, str] = {}
        self._loader = HandlerLoader()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="localcloud-async")
        self._state = threading.Lock()
        self._running: dict[str, int] = {}
        self._queued = 0
        self._timers: list[tuple[float, int, Callable[[], None], str]] = []
        self._timer_seq = itertools.count()
        self._stopped = threading.Event()
        self._timer_thread = threading.Thread(target=self._run_timers, name="localcloud-retries", daemon=True)
        self._timer_thread.start()
        self.history: deque[dict[str, Any]] = deque(maxlen=1000)
        self.send_to_arn: Callable[[str, Any], object] | None = None

    # -- registration -----------------------------------------------------

    def add(self, spec: FunctionSpec, overrides: Mapping[str, str] | None = None) -> FunctionInstance:
        instance = FunctionInstance(spec, self._environment(spec, overrides or {}))
        self.functions[spec.key] = instance
        for alias in (spec.key, spec.name, spec.arn, spec.logical_id, spec.cdk_path):
            if alias:
                self._aliases.setdefault(alias, spec.key)
        return instance

    def _environment(self, spec: FunctionSpec, overrides: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k in PASSTHROUGH if (v := environ.process_value(k)) is not None}
        env.update(DEFAULTS)
        env.update(spec.environment)
        env.update(self.runtime_env)
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(spec.timeout)),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{spec.key}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "LAMBDA_TASK_ROOT": str(self.code_root),
                "_HANDLER": spec.handler,
                "NINEFOLD_LOCAL": "1",
            }
        )
        env.update(overrides)
        return env

    def resolve(self, target: str) -> FunctionInstance | None:
        """By key, name, ARN (any qualifier), logical id or construct path."""
        key = self._aliases.get(target)
        if key is None and target.startswith("arn:"):
            parts = target.split(":")
            key = self._aliases.get(":".join(parts[:7])) if len(parts) > 7 else None
        if key is None and ":" in target and not target.startswith("arn:"):
            key = self._aliases.get(target.split(":")[0])
        return self.functions.get(key) if key else None

    def _require(self, target: str) -> FunctionInstance:
        instance = self.resolve(target)
        if instance is None:
            raise KeyError(f"no function {target!r} in the local cloud")
        return instance

    # -- invoking ----------------------------------------------------------

    def invoke(self, target: str, event: Any, source: str = "direct") -> InvocationResult:
        return self._invoke_instance(self._require(target), event, source)

    def _invoke_instance(self, instance: FunctionInstance, event: Any, source: str) -> InvocationResult:
        request_id = str(uuid.uuid4())
        with self._state:
            self._running[instance.spec.key] = self._running.get(instance.spec.key, 0) + 1
        try:
            if not instance.lock.acquire(timeout=instance.spec.timeout + 5):
                error = {"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded."}
                return InvocationResult(instance.spec.key, request_id, error, error, 0.0, source)
            try:
                result = self._execute(instance, event, request_id, source)
            finally:
                instance.lock.release()
        finally:
            with self._state:
                self._running[instance.spec.key] -= 1
        self.history.append(
            {
                "function": instance.spec.key,
                "source": source,
                "request_id": request_id,
                "ok": result.ok,
                "error": result.error,
                "duration": result.duration,
            }
        )
        return result

    def _execute(self, instance: FunctionInstance, event: Any, request_id: str, source: str) -> InvocationResult:
        spec = instance.spec
        started = time.monotonic()
        context = LambdaContext(spec, request_id, started)
        payload: Any = None
        error: dict[str, Any] | None = None
        instance.invocations += 1
        with environ.use(instance.env):
            try:
                event_copy = json.loads(json.dumps(event))
                fault = self.faults.take(spec.key)
                if fault is not None and fault.exc is not None:
                    raise fault.exc.with_traceback(None)
                if fault is not None:
                    value = fault.result
                else:
                    if instance.handler is None:
                        instance.handler = self._loader.load(spec)
                    value = instance.handler(event_copy, context)
                payload = _marshal(value)
            except (Exception, SystemExit) as exc:
                error = error_document(exc, request_id)
                log.warning(
                    "%s (%s) failed: %s: %s\n%s",
                    spec.name,
                    source,
                    error["errorType"],
                    error["errorMessage"],
                    "".join(error["stackTrace"]).rstrip(),
                )
        duration = time.monotonic() - started
        if duration > spec.timeout:
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {spec.timeout:.2f} seconds",
            }
        if error is not None:
            payload = error
        return InvocationResult(spec.key, request_id, payload, error, duration, source)

    def invoke_async(self, target: str, event: Any, source: str = "async") -> None:
        instance = self._require(target)
        self._submit_async(instance, event, source, attempt=1, first_seen=self.clock.now())

    def _submit_async(
        self, instance: FunctionInstance, event: Any, source: str, attempt: int, first_seen: float
    ) -> None:
        with self._state:
            self._queued += 1
        try:
            self._pool.submit(self._run_async, instance, event, source, attempt, first_seen)
        except RuntimeError:  # pool shut down
            with self._state:
                self._queued -= 1

    def _run_async(self, instance: FunctionInstance, event: Any, source: str, attempt: int, first_seen: float) -> None:
        try:
            result = self._invoke_instance(instance, event, source)
        finally:
            with self._state:
                self._queued -= 1
        spec = instance.spec
        if result.ok:
            self._destination(spec, spec.on_success, event, result, "Success", attempt)
            return
        age = self.clock.now() - first_seen
        if attempt <= spec.max_retry_attempts and age < spec.max_event_age:
            delay = ASYNC_RETRY_DELAYS[min(attempt - 1, len(ASYNC_RETRY_DELAYS) - 1)]
            self._schedule(
                self.clock.now() + delay,
                lambda: self._submit_async(instance, event, source, attempt + 1, first_seen),
                f"async retry {attempt} of {spec.name}",
            )
            return
        self._destination(spec, spec.on_failure, event, result, "RetriesExhausted", attempt)

    def _destination(
        self, spec: FunctionSpec, arn: str | None, event: Any, result: InvocationResult, condition: str, attempt: int
    ) -> None:
        if not arn or self.send_to_arn is None:
            return
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": self.clock.utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "requestContext": {
                "requestId": result.request_id,
                "functionArn": f"{spec.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": attempt,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "responsePayload": result.payload,
        }
        if result.error:
            record["responseContext"]["functionError"] = "Unhandled"
        try:
            self.send_to_arn(arn, record)
        except Exception:
            log.exception("could not deliver the %s destination record of %s", condition, spec.name)

    # -- delayed work (async retries) -------------------------------------------

    def _schedule(self, due: float, action: Callable[[], None], label: str) -> None:
        with self._state:
            heapq.heappush(self._timers, (due, next(self._timer_seq), action, label))

    def _run_timers(self) -> None:
        while not self._stopped.is_set():
            due_actions: list[Callable[[], None]] = []
            with self._state:
                now = self.clock.now()
                while self._timers and self._timers[0][0] <= now:
                    due_actions.append(heapq.heappop(self._timers)[2])
            for action in due_actions:
                action()
            self.clock.wait_for_change(0.2)

    # -- moto's Lambda API (Step Functions tasks, handlers calling Invoke) -------

    def handle_moto_invoke(
        self, function_name: str, body: Any, headers: Any, response_headers: dict[str, Any]
    ) -> bytes:
        instance = self.resolve(str(function_name))
        if instance is None:
            from moto.awslambda.exceptions import UnknownFunctionException

            raise UnknownFunctionException(str(function_name))
        text = body.decode() if isinstance(body, bytes) else (body or "")
        event = json.loads(text) if text.strip() else {}
        invocation_type = _header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            self._submit_async(instance, event, "lambda:InvokeAsync", 1, self.clock.now())
            return b""
        result = self._invoke_instance(instance, event, "lambda:Invoke")
        if result.error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(result.payload).encode()

    # -- state ---------------------------------------------------------------

    def busy(self, include_timers: bool = True) -> list[str]:
        """What is running or queued; with `include_timers`, also retries waiting for the clock."""
        with self._state:
            reasons = [f"{count} running invocation(s) of {key}" for key, count in self._running.items() if count]
            if self._queued:
                reasons.append(f"{self._queued} queued async invocation(s)")
            if include_timers:
                now = self.clock.now()
                reasons.extend(
                    f"{label} due in {due - now:.0f}s (advance the clock)" for due, _, _, label in self._timers
                )
        return reasons

    def shutdown(self) -> None:
        self._stopped.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _marshal(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise LambdaError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from exc


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is not None:
        value = getter(name)
        if value is not None:
            return str(value)
    for key in list(headers.keys()) if hasattr(headers, "keys") else []:
        if str(key).lower() == name.lower():
            return str(headers[key])
    return None
