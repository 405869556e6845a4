"""The emails identity asked to send, read back for tests.

Identity sends mail by writing an `email.requested` event to its outbox in the same transaction
as the token the email carries. Until the notifications system's dev mailbox records those
events, tests read them where they are written: the outbox rows of identity's table (they stay
a day). The audit log is no help here: it masks `variables`, which holds the one-time links.
"""

from __future__ import annotations

import json
from typing import Any

IDENTITY_TABLE = "Ninefold-Identity/Table"


class Mailbox:
    def __init__(self, cloud: Any) -> None:
        self.table = cloud.resource(IDENTITY_TABLE).name
        self.client = cloud.client("dynamodb")

    def messages(self, to: str, template: str | None = None) -> list[dict[str, Any]]:
        """`email.requested` data sent to `to` (normalised address), oldest first."""
        found: list[tuple[str, dict[str, Any]]] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            # A test helper may scan; product code never does.
            "FilterExpression": "kind = :outbox AND event_type = :email",
            "ExpressionAttributeValues": {":outbox": {"S": "outbox"}, ":email": {"S": "email.requested"}},
        }
        while True:
            page = self.client.scan(**request)
            for item in page.get("Items", []):
                envelope = json.loads(item["envelope"]["S"])
                data = envelope["data"]
                if data["to"] == to and (template is None or data["template"] == template):
                    found.append((envelope["metadata"]["occurred_at"], data))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [data for _, data in sorted(found, key=lambda pair: pair[0])]

    def latest(self, to: str, template: str) -> dict[str, Any]:
        messages = self.messages(to, template)
        assert messages, f"no {template!r} email was sent to {to}"
        return messages[-1]

    def token(self, to: str, template: str) -> str:
        """The one-time token in the latest `template` email's link (`.../app/<page>#token=<token>`)."""
        link = self.latest(to, template)["variables"]["link"]
        return str(link.split("#token=", 1)[1])
