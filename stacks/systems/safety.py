"""`Ninefold-Safety`: the audit trail of Ninefold's events, and its read API."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.constants import API_VERSION_PREFIX, EVENT_SOURCE_PREFIX, JOB_RUN_CHANGED, handler_path
from stacks.system import Platform, SystemStack


class SafetyStack(SystemStack):
    system = "safety"

    def __init__(self, scope: Construct, *, platform: Platform, **kwargs: Any) -> None:
        super().__init__(scope, platform=platform, **kwargs)

        audit_consumer = self.function(
            "SafetyAuditConsumer",
            handler_path(self.system, "audit_consumer"),
            timeout=cdk.Duration.seconds(30),
            description="Writes every Ninefold event to the audit trail",
        )
        self.grant_table_read_write(audit_consumer)
        audit_queue = self.consumer("AuditQueue", audit_consumer)
        # Every event but the job runtime's run snapshots (several per run; the runs API shows them).
        self.subscribe(
            "AuditAllEvents",
            audit_queue,
            {"source": [{"prefix": EVENT_SOURCE_PREFIX}], "detail-type": [{"anything-but": [JOB_RUN_CHANGED]}]},
        )

        api = self.function(
            "SafetyApi",
            handler_path(self.system, "api"),
            timeout=cdk.Duration.seconds(10),
            description="Safety HTTP API: read the audit trail",
        )
        self.grant_table_read(api)
        self.routes(
            api,
            [
                f"GET {API_VERSION_PREFIX}/audit-events",
                f"GET {API_VERSION_PREFIX}/audit-events/{{event_id}}",
            ],
        )
