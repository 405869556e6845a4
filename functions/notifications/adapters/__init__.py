"""Email provider adapters for the email port (`ninefold_core.ports.email`).

`resend` is the real provider, `local` the embedded default for the local cloud, `memory`
the fake for unit tests. `email_sender_for` is the one place that picks between them, so
swapping provider is an edit here plus a green conformance suite. Each adapter module is
imported only when chosen: the vendor SDK stays out of cold starts that do not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ninefold_core.ports import EmailSender, Guard

EmailProvider = Literal["resend", "local"]


def email_sender_for(
    provider: EmailProvider,
    *,
    guard: Guard,
    resend_api_key: str | None = None,
    mailbox_dir: Path | None = None,
) -> EmailSender:
    """The configured email adapter. Missing settings for the chosen provider raise."""
    if provider == "resend":
        from .resend import ResendEmailSender

        if not resend_api_key:
            raise ValueError("the resend provider needs resend_api_key")
        return ResendEmailSender(api_key=resend_api_key, guard=guard)
    if provider == "local":
        from .local import LocalEmailSender

        if mailbox_dir is None:
            raise ValueError("the local provider needs mailbox_dir")
        return LocalEmailSender(mailbox_dir, guard=guard)
    raise ValueError(f"unknown email provider: {provider!r}")
