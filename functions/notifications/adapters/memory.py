"""In-memory email fake for unit tests: no disk, no sockets, same behaviour as the others.

It is held to the email conformance suite like the real adapter, so a unit test that
passes against it is not relying on behaviour Resend does not have.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from ninefold_core.ports import (
    DeliveredEmail,
    EmailMessage,
    EmailSender,
    Guard,
    ProviderRejected,
    SentEmail,
    SentEmailLookup,
    SimulatedFault,
)


class MemoryEmailSender(EmailSender, SentEmailLookup):
    """Without a `guard` it gets a breaker of its own, in memory."""

    provider = "memory"

    def __init__(
        self,
        *,
        guard: Guard | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(guard=guard or Guard.in_memory(self.provider))
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, EmailMessage] = {}
        self._keys: dict[str, tuple[str, str]] = {}
        self._faults: deque[SimulatedFault] = deque()
        self.attempts = 0
        """How many times the provider was actually reached (breaker-rejected calls are not)."""

    def fail_next(self, fault: SimulatedFault) -> None:
        """Make the next send act out `fault` (queued, first in first out)."""
        with self._lock:
            self._faults.append(fault)

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        """Accepted messages in order; with `to`, only those addressed to it."""
        with self._lock:
            sent = list(self._sent.values())
        if to is None:
            return sent
        return [m for m in sent if m.is_addressed_to(to)]

    def _deliver(self, message: EmailMessage) -> SentEmail:
        with self._lock:
            self.attempts += 1
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            fault.act_out(provider=self.guard.provider, timeout=self.guard.timeout, sleep=self._sleep)
        with self._lock:
            key = message.idempotency_key
            if key is not None and key in self._keys:
                first_id, fingerprint = self._keys[key]
                if fingerprint != message.content_fingerprint():
                    raise ProviderRejected(
                        self.guard.provider,
                        "idempotency key reused with different content",
                        status=409,
                        code="invalid_idempotent_request",
                    )
                return SentEmail(provider_message_id=first_id)
            provider_message_id = str(uuid.uuid4())
            self._sent[provider_message_id] = message
            if key is not None:
                self._keys[key] = (provider_message_id, message.content_fingerprint())
        return SentEmail(provider_message_id=provider_message_id)

    def fetch_sent(self, provider_message_id: str) -> DeliveredEmail | None:
        with self._lock:
            message = self._sent.get(provider_message_id)
        if message is None:
            return None
        return DeliveredEmail(
            provider_message_id=provider_message_id,
            to=list(message.to),
            from_=message.from_,
            subject=message.subject,
            html=message.html,
            text=message.text,
            reply_to=list(message.reply_to),
        )
