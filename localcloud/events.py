"""EventBridge rule delivery, taken over from moto.

moto's `PutEvents` finds the bus's rules and calls `Rule.send_to_targets` for
each; that method is replaced (see `moto_hooks.py`) by `EventDispatcher.on_rule`
which matches with `patterns.py`, shapes the input with `transform.py` and
delivers to SQS, Lambda (async), Step Functions, buses, SNS and log groups.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import deque
from typing import Any

from localcloud import patterns, transform
from localcloud.intrinsics import ACCOUNT_ID, REGION
from localcloud.targets import TargetSender

log = logging.getLogger("localcloud.events")

EVENT_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def iso_time(value: Any) -> str:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def normalize_event(event: dict[str, Any]) -> dict[str, Any]:
    """moto's event dict -> the JSON EventBridge delivers (ISO time, no ingestion-time)."""
    shaped = {key: event[key] for key in EVENT_KEYS if key in event}
    shaped.setdefault("version", "0")
    shaped.setdefault("id", str(uuid.uuid4()))
    shaped.setdefault("account", ACCOUNT_ID)
    shaped.setdefault("region", REGION)
    shaped.setdefault("resources", [])
    shaped.setdefault("detail", {})
    shaped["time"] = iso_time(event.get("time", 0))
    return shaped


def scheduled_event(rule_arn: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": iso_time(when),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


class EventDispatcher:
    def __init__(self, sender: TargetSender) -> None:
        self.sender = sender
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=500)

    def on_rule(self, rule: Any, event: dict[str, Any]) -> None:
        """Called for every (rule, event) pair of a PutEvents call."""
        if str(getattr(rule, "state", "ENABLED")) != "ENABLED":
            return
        raw_pattern = rule.event_pattern.dump() if getattr(rule, "event_pattern", None) is not None else None
        if not raw_pattern:
            return  # a scheduled rule: it never matches events
        shaped = normalize_event(event)
        try:
            matched = patterns.matches(raw_pattern, shaped)
        except (patterns.PatternError, ValueError) as exc:
            log.warning("rule %s has a pattern the local cloud cannot evaluate: %s", rule.name, exc)
            return
        if matched:
            self.deliver(rule.name, rule.arn, list(rule.targets), shaped)

    def deliver(self, rule_name: str, rule_arn: str, targets: list[dict[str, Any]], event: dict[str, Any]) -> None:
        for target in targets:
            source = f"rule:{rule_name}"
            try:
                payload = transform.target_input(target, event, rule_arn, rule_name)
            except transform.TransformError as exc:
                self.sender.failures.append({"source": source, "target": target.get("Arn"), "error": str(exc)})
                log.warning("rule %s target %s: %s", rule_name, target.get("Id"), exc)
                continue
            self.deliveries.append({"rule": rule_name, "target": target.get("Arn"), "event_id": event.get("id")})
            self.sender.send(
                str(target["Arn"]),
                payload,
                source=source,
                sqs_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
                dedup_id=str(event.get("id")) if event.get("id") else None,
                event=event,
            )
