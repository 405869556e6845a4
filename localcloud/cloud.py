"""`LocalCloud`: one object that runs what `cdk synth` produced, for `make dev` and for tests."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

from localcloud import environ, moto_hooks, wiring
from localcloud.apigw import HttpRequest, HttpResponse, RouteTable
from localcloud.clients import FAKE_CREDENTIALS, Clients
from localcloud.clock import WarpClock
from localcloud.endpoints import describe
from localcloud.events import EventDispatcher
from localcloud.faults import FaultInjector
from localcloud.http import FrontDoor, FrontDoorApp, json_body
from localcloud.intrinsics import REGION
from localcloud.inventory import Inventory, Resource, Urls
from localcloud.lambdas import InvocationResult, LambdaRegistry
from localcloud.mailbox import Mailbox
from localcloud.moto_server import MotoServer
from localcloud.provision import Provisioner
from localcloud.scheduler import Scheduler
from localcloud.sqs_poller import SqsPoller
from localcloud.streams import StreamPoller, TtlMarks, TtlSweeper
from localcloud.targets import TargetSender
from localcloud.template import CloudAssembly

log = logging.getLogger("localcloud")


class NotIdleError(TimeoutError):
    """`wait_idle` ran out of time; the message says what was still busy."""


class LocalCloud:
    _active: ClassVar[LocalCloud | None] = None

    def __init__(
        self,
        cdk_out: Path | str = "cdk.out",
        port: int = 0,
        host: str = "127.0.0.1",
        parameters: Mapping[str, Mapping[str, Any]] | None = None,
        env: Mapping[str, Mapping[str, str]] | None = None,
        code_root: Path | None = None,
    ) -> None:
        """`parameters`: template parameter overrides per stack name.
        `env`: extra environment variables per function (construct path, logical id or
        name; "*" for all), e.g. to point a provider SDK at a local fake."""
        self.cdk_out = Path(cdk_out)
        self.host = host
        self.requested_port = port
        self.parameters = parameters or {}
        self.env_overrides = env or {}
        self.clock = WarpClock()
        self.faults = FaultInjector(self._function_key)
        self._code_root = code_root
        self.started = False
        self.startup_seconds = 0.0
        self._pollers: list[SqsPoller] = []
        self._stream_pollers: list[StreamPoller] = []
        self._ttl_marks = TtlMarks()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> LocalCloud:
        if LocalCloud._active is not None:
            raise RuntimeError("a LocalCloud is already running in this process (moto's state is process-wide)")
        began = time.monotonic()
        environ.install()
        self.assembly = CloudAssembly.load(self.cdk_out)
        self._moto = MotoServer(self.host)
        self._moto.start()
        LocalCloud._active = self
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        self.started = True
        self.startup_seconds = time.monotonic() - began
        log.info("local cloud up at %s in %.2fs", self.url, self.startup_seconds)
        return self

    def _start_parts(self) -> None:
        self.clients = Clients(self._moto.url)
        self._front = FrontDoor(self.host, self.requested_port)
        code_root = self._code_root or self.assembly.project_root
        self.lambdas = LambdaRegistry(self.clock, self.faults, self._runtime_env(), code_root)
        self.sender = TargetSender(self.clients, self.lambdas, self._moto.url, self.clock)
        self.dispatcher = EventDispatcher(self.sender)
        self.dev_mailbox = Mailbox()
        self.lambdas.send_to_arn = lambda arn, payload: self.sender.send(arn, payload, source="destination")
        moto_hooks.install(
            moto_hooks.HookTargets(
                clock=self.clock,
                invoke=self.lambdas.handle_moto_invoke,
                invoke_async=lambda fn, event, source: self.lambdas.invoke_async(fn, event, source=source),
                on_rule=self.dispatcher.on_rule,
                on_stream_write=self._on_stream_write,
                on_put_event=self.dev_mailbox.on_put_event,
            )
        )
        self.inventory = Inventory(self.assembly)
        Provisioner(self.inventory, self.clients, Urls(self._moto.url, self._front.url), self.parameters).run()
        self.wiring = wiring.build(self.inventory)
        overrides = self._env_by_function()
        for spec in self.wiring.functions:
            self.lambdas.add(spec, {**overrides.get("*", {}), **overrides.get(spec.key, {})})
        self._start_workers()
        app = FrontDoorApp(
            self.lambdas,
            self.clock,
            RouteTable(self.wiring.routes),
            self.wiring.function_urls,
            self.wiring.sites,
            self._local_api,
        )
        self._front.serve(app)

    def _runtime_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self._moto.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": FAKE_CREDENTIALS["aws_session_token"],
            # botocore 1.44 would send DynamoDB calls to account-based hosts moto cannot route.
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "LOCALCLOUD_URL": self._front.url,
        }

    def _env_by_function(self) -> dict[str, dict[str, str]]:
        resolved: dict[str, dict[str, str]] = {}
        for target, variables in self.env_overrides.items():
            key = "*" if target == "*" else self._function_key(target)
            resolved.setdefault(key, {}).update({k: str(v) for k, v in variables.items()})
        return resolved

    def _start_workers(self) -> None:
        for mapping in self.wiring.mappings:
            if not mapping.enabled:
                continue
            if mapping.kind == "sqs":
                self._pollers.append(SqsPoller(mapping, self.clients, self.lambdas, self.clock, self._moto.url))
            else:
                table_name = mapping.source_arn.split(":table/")[1].split("/stream/")[0]
                poller = StreamPoller(
                    mapping,
                    table_name,
                    self.clients,
                    self.lambdas,
                    self.clock,
                    self._ttl_marks,
                    self.lambdas.send_to_arn,
                )
                poller.prime()
                self._stream_pollers.append(poller)
        self.ttl = TtlSweeper(self.clients, self.clock, self._ttl_marks)
        for table in self.inventory.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            if table.attributes.get("TimeToLiveAttribute") and table.status == "created":
                self.ttl.watch(table.name, table.attributes["TimeToLiveAttribute"])
        self.scheduler = Scheduler(self.clock, self.sender, self.dispatcher, self.clients)
        self.clock.before_advance(self._settle_before_advance)
        self.clock.before_advance(self.scheduler.observe)
        self.clock.on_advance(self._after_advance)
        for sqs_poller in self._pollers:
            sqs_poller.start()
        for worker in [*self._stream_pollers, self.ttl, self.scheduler]:
            worker.start()

    def _after_advance(self, now: float) -> None:
        self.scheduler.kick()
        self.ttl.kick()
        for poller in self._pollers:
            poller.kick()
            moto_hooks.wake_long_polls(poller.queue_name)

    def _on_stream_write(self, table: str) -> None:
        for poller in self._stream_pollers:
            if poller.table_name == table:
                poller.kick()

    def stop(self) -> None:
        front = getattr(self, "_front", None)
        if front is not None:
            front.stop()
        for poller in self._pollers:
            poller.stop()
        for worker in [*self._stream_pollers, getattr(self, "ttl", None), getattr(self, "scheduler", None)]:
            if worker is not None:
                worker.stop()
        for poller in self._pollers:
            poller.join(2.0)
        self.clock.remove_listener(self._after_advance)
        self.clock.remove_listener(self._settle_before_advance)
        if getattr(self, "scheduler", None) is not None:
            self.clock.remove_listener(self.scheduler.observe)
        if getattr(self, "lambdas", None) is not None:
            self.lambdas.shutdown()
        if LocalCloud._active is self:
            moto_hooks.uninstall()
            LocalCloud._active = None
        moto = getattr(self, "_moto", None)
        if moto is not None:
            moto.stop()
        self.started = False

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- API ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._front.url

    @property
    def moto_url(self) -> str:
        return self._moto.url

    def client(self, service: str) -> Any:
        """A boto3 client for the embedded moto (fake credentials, us-east-1)."""
        return self.clients.get(service)

    def session(self) -> Any:
        import boto3

        return boto3.session.Session(region_name=REGION, **FAKE_CREDENTIALS)

    def resource(self, key: str) -> Resource:
        """A template resource by construct path (or prefix), `Stack/LogicalId`, logical id, name or ARN."""
        return self.inventory.find(key)

    def invoke(self, target: str, event: Any = None) -> Any:
        """Run a function synchronously; its return value, or the AWS-shaped error document."""
        return self.invoke_result(target, event).payload

    def invoke_result(self, target: str, event: Any = None) -> InvocationResult:
        return self.lambdas.invoke(self._function_key(target), {} if event is None else event, source="test")

    def invocations(self, target: str | None = None) -> list[dict[str, Any]]:
        key = self._function_key(target) if target else None
        return [entry for entry in self.lambdas.history if key is None or entry["function"] == key]

    def endpoints(self) -> dict[str, Any]:
        return describe(self.inventory, self.wiring, self.url, self.moto_url)

    def mailbox(self, to: str | None = None) -> list[dict[str, Any]]:
        """`email.requested` events that crossed a bus (to, template, variables, occurred_at), newest first."""
        return self.dev_mailbox.messages(to)

    @property
    def delivery_failures(self) -> list[dict[str, Any]]:
        return list(self.sender.failures)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until nothing runs and nothing waits: no invocation in flight or due for retry, no
        message visible or in flight in a mapped queue, no running execution, every poller,
        the TTL sweeper and the scheduler caught up. `NotIdleError` says what is still busy."""
        self._wait(timeout, strict=True)

    def settle(self, timeout: float = 10.0) -> None:
        """Until everything in flight has run as far as it can without the clock moving:
        executions parked in a Wait or a Retry backoff, messages waiting out a visibility
        timeout and async retries waiting for their minute count as settled."""
        self._wait(timeout, strict=False)

    def _wait(self, timeout: float, strict: bool) -> None:
        deadline = time.monotonic() + timeout
        reasons: list[str] = []
        while time.monotonic() < deadline:
            reasons = self._activity(deadline, strict)
            if not reasons:
                reasons = self._activity(deadline, strict)  # confirm: work may have just handed over
                if not reasons:
                    return
            time.sleep(0.02)
        raise NotIdleError(f"local cloud still busy after {timeout}s: " + "; ".join(reasons))

    def _settle_before_advance(self, now: float) -> None:
        """`clock.advance` first lets in-flight work reach the point where it waits for the clock,
        so that a jump is never lost on a sleeper that had not gone to sleep yet."""
        if not self.started:
            return
        try:
            self.settle(timeout=10.0)
        except NotIdleError as busy:
            log.warning("advancing the clock while work is still in flight: %s", busy)

    def _activity(self, deadline: float, strict: bool) -> list[str]:
        reasons = list(self.lambdas.busy(include_timers=strict))
        for worker in [*self._stream_pollers, self.ttl, self.scheduler]:
            settled = worker.settle(max(0.05, deadline - time.monotonic()))
            if settled is not True and (strict or not worker.backing_off):
                reasons.append(f"{worker.name} {worker.status or 'busy'}".strip())
        reasons.extend(self._busy_queues(strict))
        reasons.extend(self._running_executions(strict))
        return reasons

    def _busy_queues(self, strict: bool) -> list[str]:
        holding = [f"the {p.queue_name} poller holds a batch" for p in self._pollers if p.holding]
        return holding + self._queue_contents(strict)

    def _queue_contents(self, strict: bool) -> list[str]:
        if not strict:
            # Messages in their visibility timeout, or behind an in-flight FIFO message of their
            # group, wait for the clock; only deliverable ones keep the cloud from settling.
            counts = {p.queue_name: moto_hooks.deliverable_messages(p.queue_name) for p in self._pollers}
            return [f"queue {name} has {count} deliverable message(s)" for name, count in counts.items() if count]
        sqs = self.clients.get("sqs")
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        reasons = []
        for poller in self._pollers:
            attributes = sqs.get_queue_attributes(QueueUrl=poller.queue_url, AttributeNames=names)["Attributes"]
            counts = {k.removeprefix("ApproximateNumberOf"): int(v) for k, v in attributes.items() if int(v)}
            if counts:
                reasons.append(f"queue {poller.queue_name} has {counts}")
        return reasons

    def _running_executions(self, strict: bool) -> list[str]:
        sfn = self.clients.get("stepfunctions")
        running: dict[str, int] = {}
        for machine in sfn.list_state_machines().get("stateMachines", []):
            found = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
            if found.get("executions"):
                running[machine["name"]] = len(found["executions"])
        if not strict and sum(running.values()) <= self.clock.sleepers:
            return []  # every running execution is parked in a Wait or a Retry backoff
        return [f"{count} running execution(s) of {name}" for name, count in running.items()]

    def _function_key(self, target: str) -> str:
        instance = self.lambdas.resolve(target) if hasattr(self, "lambdas") else None
        if instance is not None:
            return instance.spec.key
        resource = self.inventory.find_function(target) or self._function_by_path(target)
        if resource is None:
            raise KeyError(f"no function matches {target!r}")
        return resource.logical_path

    def _function_by_path(self, target: str) -> Resource | None:
        try:
            found = self.inventory.find(target)
        except KeyError:
            return None
        if found.type == "AWS::Lambda::Function":
            return found
        candidates = [
            r
            for r in self.inventory.resources
            if r.type == "AWS::Lambda::Function" and r.cdk_path and r.cdk_path.startswith(target.strip("/") + "/")
        ]
        return min(candidates, key=lambda r: len(r.cdk_path or "")) if candidates else None

    # -- /_local ---------------------------------------------------------------------------

    def _local_api(self, request: HttpRequest, path: str) -> HttpResponse | None:
        method = request.method
        if path == "/_local/health":
            return HttpResponse.json(200, {"status": "ok", "startup_seconds": round(self.startup_seconds, 3)})
        if path == "/_local/endpoints":
            return HttpResponse.json(200, self.endpoints())
        if path == "/_local/clock":
            if method == "POST":
                body = json_body(request) or {}
                self.clock.advance(float(body.get("advance", 0)))
            return HttpResponse.json(200, self._clock_state())
        if path == "/_local/invocations":
            return HttpResponse.json(200, list(self.lambdas.history))
        if path == "/_local/wait-idle" and method == "POST":
            body = json_body(request) or {}
            try:
                self.wait_idle(float(body.get("timeout", 10)))
            except NotIdleError as exc:
                return HttpResponse.json(504, {"idle": False, "busy": str(exc)})
            return HttpResponse.json(200, {"idle": True})
        if path == "/_local/faults":
            return self._faults_api(request)
        if path == "/_local/mailbox" and method == "GET":
            to = next(iter(urllib.parse.parse_qs(request.raw_query).get("to", [])), None)
            return HttpResponse.json(200, self.mailbox(to))
        return None

    def _clock_state(self) -> dict[str, Any]:
        return {"now": self.clock.now(), "iso": self.clock.utcnow().isoformat(), "offset": self.clock.offset}

    def _faults_api(self, request: HttpRequest) -> HttpResponse:
        if request.method == "DELETE":
            self.faults.clear()
        elif request.method == "POST":
            body = json_body(request) or {}
            error_type = str(body.get("error", "RuntimeError"))
            exc = type(error_type, (Exception,), {})(str(body.get("message", "fault injected")))
            try:
                self.faults.inject(str(body.get("target")), exc=exc, times=body.get("times"))
            except KeyError as missing:
                return HttpResponse.json(404, {"message": str(missing)})
        return HttpResponse.json(200, self.faults.active())


def endpoints_text(cloud: LocalCloud) -> str:
    """A short human listing for the CLI."""
    data = cloud.endpoints()
    lines = [f"local cloud at {data['url']} (moto at {data['moto_url']}), up in {cloud.startup_seconds:.2f}s"]
    for route in data["routes"]:
        function = (route["function"] or {}).get("logical_id", "?")
        auth = f" [auth: {route['authorizer']['name']}]" if route["authorizer"] else ""
        lines.append(f"  {route['route_key']:<50} -> {function}{auth}")
    for url in data["function_urls"]:
        lines.append(f"  function URL {url['url']} -> {url['function_logical_id']}")
    for site in data["sites"]:
        lines.append(f"  site {site['path']:<20} <- {site['source']}")
    lines.append(
        f"  {len(data['functions'])} functions, {len(data['queues'])} queues, {len(data['rules'])} rules, "
        f"{len(data['state_machines'])} state machines, {len(data['not_emulated'])} not emulated"
    )
    return "\n".join(lines) + "\n" + json.dumps({"endpoints": f"{data['url']}/_local/endpoints"})
