"""Deliver a payload to whatever an ARN names: the common end of rules, schedules and destinations."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import deque
from typing import Any

from localcloud.clients import Clients
from localcloud.clock import WarpClock
from localcloud.intrinsics import ACCOUNT_ID
from localcloud.lambdas import LambdaRegistry

log = logging.getLogger("localcloud.targets")

# EventBridge Scheduler universal targets name services their own way.
_SDK_SERVICES = {"sfn": "stepfunctions", "eventbridge": "events", "cloudwatchlogs": "logs"}


class DeliveryError(Exception):
    """A target could not be reached (its failure is recorded, not raised to the sender)."""


class TargetSender:
    def __init__(self, clients: Clients, lambdas: LambdaRegistry, moto_url: str, clock: WarpClock) -> None:
        self.clients = clients
        self.clock = clock
        self.lambdas = lambdas
        self.moto_url = moto_url
        self.failures: deque[dict[str, Any]] = deque(maxlen=200)

    def send(
        self,
        arn: str,
        payload: Any,
        *,
        source: str,
        sqs_group_id: str | None = None,
        dedup_id: str | None = None,
        event: dict[str, Any] | None = None,
        bus_parameters: dict[str, Any] | None = None,
    ) -> bool:
        """Deliver, recording (and logging) a failure instead of raising it; True when delivered."""
        try:
            self._send(arn, payload, source, sqs_group_id, dedup_id, event, bus_parameters)
        except Exception as exc:
            log.warning("delivery from %s to %s failed: %s", source, arn, exc)
            self.failures.append({"source": source, "target": arn, "error": f"{type(exc).__name__}: {exc}"})
            return False
        return True

    def _send(
        self,
        arn: str,
        payload: Any,
        source: str,
        sqs_group_id: str | None,
        dedup_id: str | None,
        event: dict[str, Any] | None,
        bus_parameters: dict[str, Any] | None,
    ) -> None:
        parts = arn.split(":")
        service = parts[2] if len(parts) > 2 else ""
        if service == "lambda":
            self.lambdas.invoke_async(arn, payload, source=source)
        elif service == "sqs":
            self._to_queue(parts[5], payload, sqs_group_id, dedup_id)
        elif service == "states":
            self.clients.get("stepfunctions").start_execution(
                stateMachineArn=arn, name=execution_name(source), input=json.dumps(payload)
            )
        elif service == "events" and ":event-bus/" in arn:
            self._to_bus(arn, payload, event, bus_parameters)
        elif service == "sns":
            request: dict[str, Any] = {"TopicArn": arn, "Message": _body(payload)}
            if arn.endswith(".fifo"):
                request["MessageGroupId"] = sqs_group_id or "default"
                request["MessageDeduplicationId"] = dedup_id or uuid.uuid4().hex
            self.clients.get("sns").publish(**request)
        elif service == "logs":
            self._to_log_group(parts[6] if len(parts) > 6 else "", payload)
        elif service == "scheduler" and "aws-sdk" in parts:
            self._sdk_call(parts, payload)
        else:
            raise DeliveryError(f"target type {service!r} is not emulated")

    def _to_queue(self, name: str, payload: Any, group_id: str | None, dedup_id: str | None) -> None:
        request: dict[str, Any] = {
            "QueueUrl": f"{self.moto_url}/{ACCOUNT_ID}/{name}",
            "MessageBody": _body(payload),
        }
        if name.endswith(".fifo"):
            request["MessageGroupId"] = group_id or "default"
            # EventBridge needs content-based deduplication on the queue; an explicit id
            # keeps distinct events distinct when it is off.
            request["MessageDeduplicationId"] = dedup_id or uuid.uuid4().hex
        self.clients.get("sqs").send_message(**request)

    def _to_bus(
        self, arn: str, payload: Any, event: dict[str, Any] | None, bus_parameters: dict[str, Any] | None
    ) -> None:
        if bus_parameters is not None:  # EventBridge Scheduler's templated PutEvents target
            entry = {
                "EventBusName": arn,
                "Source": bus_parameters.get("Source", "aws.scheduler"),
                "DetailType": bus_parameters.get("DetailType", "Scheduled Event"),
                "Detail": _body(payload if payload not in (None, "") else {}),
            }
        else:  # bus-to-bus forwarding sends the original event
            original = event or {}
            entry = {
                "EventBusName": arn,
                "Source": original.get("source", "local"),
                "DetailType": original.get("detail-type", "Event"),
                "Detail": json.dumps(original.get("detail", {})),
                "Resources": list(original.get("resources") or []),
            }
        response = self.clients.get("events").put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            raise DeliveryError(f"PutEvents to {arn} failed: {response['Entries']}")

    def _to_log_group(self, group: str, payload: Any) -> None:
        logs = self.clients.get("logs")
        stream = uuid.uuid4().hex
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": self.clock.now_ms(), "message": _body(payload)}],
        )

    def _sdk_call(self, parts: list[str], payload: Any) -> None:
        # arn:aws:scheduler:::aws-sdk:<service>:<apiAction>
        position = parts.index("aws-sdk")
        service = _SDK_SERVICES.get(parts[position + 1], parts[position + 1])
        action = re.sub(r"(?<!^)(?=[A-Z])", "_", parts[position + 2]).lower()
        parameters = payload if isinstance(payload, dict) else json.loads(payload or "{}")
        getattr(self.clients.get(service), action)(**parameters)


def execution_name(source: str) -> str:
    """Step Functions needs a unique name on every start (moto rejects a missing one)."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", source)[:40].strip("-") or "local"
    return f"{prefix}-{uuid.uuid4().hex}"[:80]


def _body(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)
