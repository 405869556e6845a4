"""The dev mailbox: every `email.requested` event that crosses a bus, kept for reading back.

Until the notifications system sends mail, the local cloud records what identity (or anyone)
asked to send. It is fed from the PutEvents hook (`moto_hooks.py`), so it sees an event whether
or not a rule matches it, and serves it at `GET /_local/mailbox?to=<email>`.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

DETAIL_TYPE = "email.requested"


class Mailbox:
    def __init__(self, limit: int = 1000) -> None:
        self._messages: deque[dict[str, Any]] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def on_put_event(self, entry: dict[str, Any]) -> None:
        """Called with each PutEvents entry the bus accepted."""
        if entry.get("DetailType") != DETAIL_TYPE:
            return
        try:
            detail = json.loads(entry.get("Detail") or "{}")
        except ValueError:
            return
        data = detail.get("data") if isinstance(detail.get("data"), dict) else detail
        metadata = detail.get("metadata") if isinstance(detail.get("metadata"), dict) else {}
        message = {
            "to": data.get("to"),
            "template": data.get("template"),
            "variables": data.get("variables") or {},
            "occurred_at": metadata.get("occurred_at"),
        }
        with self._lock:
            self._messages.append(message)

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Recorded emails, newest first; only those sent to `to` when given (case-insensitive)."""
        with self._lock:
            recorded = list(self._messages)
        wanted = to.strip().lower() if to else None
        chosen = [m for m in recorded if wanted is None or str(m["to"] or "").lower() == wanted]
        return list(reversed(chosen))

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
