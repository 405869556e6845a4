"""The dev mailbox keeps `email.requested` PutEvents entries and reads them back newest first."""

from __future__ import annotations

import json

from localcloud.mailbox import Mailbox


def entry(to: str, template: str, occurred_at: str, detail_type: str = "email.requested") -> dict[str, str]:
    detail = {
        "metadata": {"type": detail_type, "occurred_at": occurred_at},
        "data": {"to": to, "template": template, "variables": {"link": "https://x/app/verify-email#token=t"}},
    }
    return {"Source": "ninefold.identity", "DetailType": detail_type, "Detail": json.dumps(detail)}


def test_records_only_email_requested_newest_first_and_filters_by_recipient() -> None:
    mailbox = Mailbox()
    mailbox.on_put_event(entry("a@example.com", "verify-email", "2026-01-01T00:00:00Z"))
    mailbox.on_put_event(entry("b@example.com", "verify-email", "2026-01-01T00:00:01Z"))
    mailbox.on_put_event(entry("a@example.com", "reset-password", "2026-01-01T00:00:02Z"))
    mailbox.on_put_event(entry("a@example.com", "x", "2026-01-01T00:00:03Z", detail_type="workspace.renamed"))

    assert [m["template"] for m in mailbox.messages("A@example.com")] == ["reset-password", "verify-email"]
    assert len(mailbox.messages()) == 3
    assert mailbox.messages("a@example.com")[0] == {
        "to": "a@example.com",
        "template": "reset-password",
        "variables": {"link": "https://x/app/verify-email#token=t"},
        "occurred_at": "2026-01-01T00:00:02Z",
    }
    mailbox.clear()
    assert mailbox.messages() == []
