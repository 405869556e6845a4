"""Safety's routes in the isolation suite.

An audit event only exists once its tenant does something, and nothing in the API creates one
directly: the seeder renames the tenant's workspace (identity, always present) and lets the
bus carry `workspace.renamed` to safety's audit consumer. Two renames, so that the audit log
has a second page and its cursor can be replayed by the other tenant.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.isolation import HarnessError, Tenant, seeder

AUDIT_EVENT = "/api/v1/audit-events/{event_id}"


@seeder(AUDIT_EVENT)
def audit_events(cloud: Any, tenant: Tenant) -> list[dict[str, str]]:
    for _ in range(2):
        name = f"Probe {uuid.uuid4().hex[:8]}"
        renamed = tenant.api.request("PATCH", "/api/v1/workspace", json_body={"name": name})
        if renamed.status != 200:
            raise HarnessError(f"seeding {AUDIT_EVENT}: renaming the workspace answered {renamed.status}")
    cloud.wait_idle(timeout=30)
    listed = tenant.api.request("GET", "/api/v1/audit-events?limit=100")
    if listed.status != 200:
        raise HarnessError(f"seeding {AUDIT_EVENT}: listing the audit log answered {listed.status}")
    return [{"event_id": item["id"]} for item in listed.json["items"]]
