"""Putting envelopes on the bus.

Two ways out:
* `EventPublisher.publish` — straight to EventBridge, for flows with no state
  change to keep consistent with the event (or that are themselves consumers,
  where a failure simply retries the message).
* the transactional outbox (`ninefold_core.events.outbox`) — the event is written
  in the same DynamoDB transaction as the state change and relayed from the
  table's stream, so a crash between "write" and "publish" loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from ninefold_core import aws
from ninefold_core.errors import ServiceUnavailable
from ninefold_core.events.envelope import Envelope

MAX_ENTRIES = 10


class PublishFailed(ServiceUnavailable):
    """EventBridge refused some entries after a retry; the caller must retry."""


def bus_entry(detail: dict[str, Any], bus_name: str) -> dict[str, Any]:
    metadata = detail["metadata"]
    return {
        "EventBusName": bus_name,
        "Source": metadata["source"],
        "DetailType": metadata["type"],
        "Detail": json.dumps(detail, separators=(",", ":")),
    }


class EventPublisher:
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("events")
        return self._client

    def publish(self, *envelopes: Envelope[Any]) -> None:
        self.publish_details([e.to_detail() for e in envelopes])

    def publish_details(self, details: Iterable[dict[str, Any]]) -> None:
        entries = [bus_entry(d, self.bus_name) for d in details]
        for start in range(0, len(entries), MAX_ENTRIES):
            self._put(entries[start : start + MAX_ENTRIES])

    def _put(self, entries: Sequence[dict[str, Any]], attempt: int = 1) -> None:
        response = self.client.put_events(Entries=list(entries))
        if not response.get("FailedEntryCount"):
            return
        failed = [entry for entry, result in zip(entries, response["Entries"], strict=True) if result.get("ErrorCode")]
        if attempt >= 2:
            raise PublishFailed(f"{len(failed)} events could not be published")
        self._put(failed, attempt + 1)
