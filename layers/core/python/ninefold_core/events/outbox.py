"""Transactional outbox: events written with the state change they describe.

An outbox item lives at `T#<tenant>#OUTBOX#<event id>` (one partition per event,
so a busy tenant never makes a hot key) with `kind = "outbox"`. The table's
stream feeds `ninefold_core.events.relay.handler`, which puts the envelope on the
bus; the item expires a day later. Consumers dedupe on the envelope id, so the
relay's at-least-once delivery is safe.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ninefold_core.dynamo import TenantRepository
from ninefold_core.events.envelope import Envelope

OUTBOX_KIND = "outbox"
OUTBOX_RETENTION_SECONDS = 24 * 3600


def outbox_op(repo: TenantRepository, envelope: Envelope[Any]) -> dict[str, Any]:
    """A transaction operation that records `envelope` for relay to the bus."""
    if envelope.tenant_id != repo.ctx.tenant_id:
        raise ValueError("an event can only be written to its own tenant's outbox")
    return repo.put_op(
        ("OUTBOX", envelope.id),
        "event",
        {
            "kind": OUTBOX_KIND,
            "event_type": envelope.metadata.type,
            "envelope": json.dumps(envelope.to_detail(), separators=(",", ":")),
        },
        if_absent=True,
        ttl=int(time.time()) + OUTBOX_RETENTION_SECONDS,
    )
