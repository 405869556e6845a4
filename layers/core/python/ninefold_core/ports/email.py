"""The email port: what the product needs from an email provider, and nothing vendor-shaped.

The message model enforces the limits every provider we would consider shares (at most 50
recipients, a subject, a body, tag names and values a provider accepts), so a message the
local mailbox accepts is one the real provider accepts too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Annotated, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ninefold_core.ports.base import Classifier, Guard, classify_transport_error

MAX_RECIPIENTS = 50

_Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
_TagPart = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")]


def bare_address(address: str) -> str:
    """`"Ada <ADA@example.com>"` -> `"ada@example.com"`: the part that identifies a mailbox."""
    start, end = address.rfind("<"), address.rfind(">")
    bare = address[start + 1 : end] if 0 <= start < end else address
    return bare.strip().lower()


class EmailMessage(BaseModel):
    """One email to send. `idempotency_key` makes retries safe: the same key and the same
    content is delivered once; the same key with other content is rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: list[_Address] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    # "from" is a keyword; the JSON form (local mailbox, events) still says "from".
    from_: _Address = Field(validation_alias=AliasChoices("from_", "from"), serialization_alias="from")
    subject: Annotated[str, StringConstraints(min_length=1, max_length=998)]
    html: str | None = None
    text: str | None = None
    reply_to: list[_Address] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    tags: dict[_TagPart, _TagPart] = Field(default_factory=dict)
    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None

    @model_validator(mode="after")
    def _has_a_body(self) -> EmailMessage:
        if not self.html and not self.text:
            raise ValueError("an email needs an html or a text body")
        return self

    def is_addressed_to(self, address: str) -> bool:
        """Whether `address` is a recipient, ignoring case and display names."""
        wanted = bare_address(address)
        return any(bare_address(recipient) == wanted for recipient in self.to)

    def content_fingerprint(self) -> str:
        """Identifies the content, ignoring the idempotency key, for idempotent replays."""
        return self.model_dump_json(exclude={"idempotency_key"}, by_alias=True)


class SentEmail(BaseModel):
    """The provider accepted the message."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str


class DeliveredEmail(BaseModel):
    """What a provider can tell back about a message it accepted (no tags, no key: not every
    provider echoes those)."""

    model_config = ConfigDict(frozen=True)

    provider_message_id: str
    to: list[str]
    from_: str = Field(validation_alias=AliasChoices("from_", "from"), serialization_alias="from")
    subject: str
    html: str | None = None
    text: str | None = None
    reply_to: list[str] = Field(default_factory=list)


class EmailSender(ABC):
    """Sends email through a provider. Adapters implement `_deliver`; `send` is fixed so that
    every adapter goes through its guard (breaker, timeout, error translation)."""

    provider: ClassVar[str]

    def __init__(self, *, guard: Guard) -> None:
        self._guard = guard

    @property
    def guard(self) -> Guard:
        return self._guard

    def send(self, message: EmailMessage) -> SentEmail:
        """Hand `message` to the provider.

        Raises `ProviderUnavailable` (retry later, with the same idempotency key) or
        `ProviderRejected` (do not retry unchanged).
        """
        return self._guard.call(lambda: self._deliver(message), classify=self.classifier())

    @abstractmethod
    def _deliver(self, message: EmailMessage) -> SentEmail:
        """Make the provider call. Runs inside the guard; use `self.guard.timeout`."""

    def classifier(self) -> Classifier:
        """Maps this adapter's SDK exceptions to `ProviderError`s; override per vendor."""
        provider = self._guard.provider
        return lambda exc: classify_transport_error(exc, provider=provider)


class SentEmailLookup(ABC):
    """Verification hook: read back a message a provider accepted.

    Used by the conformance suite and by support tooling. A provider without such an API
    gets its read-back from the conformance harness instead (see docs/providers.md).
    """

    @abstractmethod
    def fetch_sent(self, provider_message_id: str) -> DeliveredEmail | None:
        """The accepted message, or None if the provider does not know the id."""
