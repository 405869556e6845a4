"""The local mailbox: the embedded default email provider for `make dev` and tests.

Each accepted message is one JSON file, so the local cloud, a test, or a developer with
`cat` can read what the product sent. It honours idempotency keys the way Resend does and
can act out provider failures, so it passes the same conformance suite as the real adapter.

Layout under the mailbox directory::

    messages/<provider_message_id>.json   one accepted message
    idempotency/<sha256 of key>.json      the message id a key was first used for
    faults/<sequence>.json                failures queued by `LocalMailbox.inject_fault`
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

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


class MailboxEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider_message_id: str
    received_at: datetime
    message: EmailMessage

    def as_delivered(self) -> DeliveredEmail:
        return DeliveredEmail(
            provider_message_id=self.provider_message_id,
            to=list(self.message.to),
            from_=self.message.from_,
            subject=self.message.subject,
            html=self.message.html,
            text=self.message.text,
            reply_to=list(self.message.reply_to),
        )


def _write_atomically(path: Path, payload: str) -> Path:
    """Write to a temporary file beside `path`, so readers never see half a message."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(payload)
    return Path(tmp)


class LocalMailbox:
    """Reads (and, for `LocalEmailSender`, writes) a mailbox directory.

    Safe across processes: messages appear atomically, an idempotency key is claimed with a
    hard link (fails if taken), and a queued fault is claimed by unlinking it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._messages = self.path / "messages"
        self._keys = self.path / "idempotency"
        self._faults = self.path / "faults"

    def _ensure_dirs(self) -> None:
        for directory in (self._messages, self._keys, self._faults):
            directory.mkdir(parents=True, exist_ok=True)

    # -- reading -------------------------------------------------------------------------

    def messages(self, to: str | None = None) -> list[MailboxEntry]:
        """Accepted messages, oldest first; with `to`, only those addressed to it."""
        if not self._messages.is_dir():
            return []
        entries = [
            MailboxEntry.model_validate_json(path.read_text(encoding="utf-8")) for path in self._messages.glob("*.json")
        ]
        if to is not None:
            entries = [e for e in entries if e.message.is_addressed_to(to)]
        return sorted(entries, key=lambda e: e.received_at)

    def get(self, provider_message_id: str) -> MailboxEntry | None:
        try:
            # Only ids we minted name a file; anything else (say "../x") is simply unknown.
            canonical = str(uuid.UUID(provider_message_id))
        except ValueError:
            return None
        path = self._messages / f"{canonical}.json"
        if not path.is_file():
            return None
        return MailboxEntry.model_validate_json(path.read_text(encoding="utf-8"))

    # -- faults --------------------------------------------------------------------------

    def inject_fault(self, fault: SimulatedFault) -> None:
        """Make the next send act out `fault` (queued, first in first out)."""
        self._ensure_dirs()
        payload = json.dumps({"status": fault.status, "delay_seconds": fault.delay_seconds, "code": fault.code})
        tmp = _write_atomically(self._faults / "next", payload)
        tmp.rename(self._faults / f"{time.time_ns():020d}-{uuid.uuid4().hex}.json")

    def pending_faults(self) -> int:
        return len(list(self._faults.glob("*.json"))) if self._faults.is_dir() else 0

    def take_fault(self) -> SimulatedFault | None:
        if not self._faults.is_dir():
            return None
        for path in sorted(self._faults.glob("*.json")):
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                path.unlink()
            except FileNotFoundError:
                continue  # another process claimed it first
            return SimulatedFault(status=raw["status"], delay_seconds=raw["delay_seconds"], code=raw["code"])
        return None

    # -- accepting -----------------------------------------------------------------------

    def accept(self, message: EmailMessage, *, provider: str) -> SentEmail:
        """Store `message`; with an idempotency key, at most once per key (as Resend does)."""
        self._ensure_dirs()
        provider_message_id = str(uuid.uuid4())
        if message.idempotency_key is not None:
            replayed = self._claim_key(
                message.idempotency_key,
                message.content_fingerprint(),
                provider_message_id,
                provider=provider,
            )
            if replayed is not None:
                return SentEmail(provider_message_id=replayed)
        entry = MailboxEntry(
            provider_message_id=provider_message_id,
            received_at=datetime.now(UTC),
            message=message,
        )
        target = self._messages / f"{provider_message_id}.json"
        _write_atomically(target, entry.model_dump_json(by_alias=True, indent=2)).replace(target)
        return SentEmail(provider_message_id=provider_message_id)

    def _claim_key(self, key: str, content: str, new_id: str, *, provider: str) -> str | None:
        """None if the key is new (and now ours); else the id it was first used for."""
        record_path = self._keys / f"{hashlib.sha256(key.encode()).hexdigest()}.json"
        fingerprint = hashlib.sha256(content.encode()).hexdigest()
        record = json.dumps({"provider_message_id": new_id, "fingerprint": fingerprint})
        tmp = _write_atomically(record_path, record)
        try:
            os.link(tmp, record_path)
        except FileExistsError:
            existing = json.loads(record_path.read_text(encoding="utf-8"))
            if existing["fingerprint"] != fingerprint:
                raise ProviderRejected(
                    provider,
                    "idempotency key reused with different content",
                    status=409,
                    code="invalid_idempotent_request",
                ) from None
            return str(existing["provider_message_id"])
        finally:
            tmp.unlink()
        return None

    def clear(self) -> None:
        for directory in (self._messages, self._keys, self._faults):
            if directory.is_dir():
                for path in directory.iterdir():
                    path.unlink()


class LocalEmailSender(EmailSender, SentEmailLookup):
    """Delivers into a `LocalMailbox`. The caller passes the directory (the local cloud reads
    it from `LOCAL_MAILBOX_DIR`); nothing here reads the environment."""

    provider = "local"

    def __init__(
        self,
        mailbox_dir: Path,
        *,
        guard: Guard,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(guard=guard)
        self.mailbox = LocalMailbox(mailbox_dir)
        self._sleep = sleep

    def _deliver(self, message: EmailMessage) -> SentEmail:
        fault = self.mailbox.take_fault()
        if fault is not None:
            fault.act_out(provider=self.guard.provider, timeout=self.guard.timeout, sleep=self._sleep)
        return self.mailbox.accept(message, provider=self.guard.provider)

    def fetch_sent(self, provider_message_id: str) -> DeliveredEmail | None:
        entry = self.mailbox.get(provider_message_id)
        return entry.as_delivered() if entry else None
