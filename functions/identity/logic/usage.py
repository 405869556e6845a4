"""API calls per tenant, for billing: counted by the authorizer, reported hourly as events.

Counting: every authorized request adds 1 to its tenant's counter for the current UTC hour, an
atomic ADD on `P#usage#<hour>#<shard>` / `tenant#<tenant_id>`. The hour's counters are spread
over `SHARDS` partitions (by a hash of the tenant id) so that one busy hour never concentrates
every tenant's writes on one partition. Counting is best effort by design: a failed ADD is logged
and the request still goes through (an outage of the counter never becomes an outage of the API);
the error is in the tenant's favour.

Reporting: the hourly platform job `identity.report_usage` (`jobs/usage.py`) emits
`usage.api_calls_recorded` for each counter of the last `LOOKBACK_HOURS` finished hours whose count
moved since it was last reported, with the *delta* and the running total. The counter remembers
`reported` with a conditional write in the same transaction as the event's outbox row, so a re-run
(at-least-once schedules, retries) never reports the same calls twice, and calls that arrive late
(clock skew at the hour's edge) are reported by the next run. Billing sums the deltas.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from functions.identity.dal.store import IdentityDb
from ninefold_core.dynamo import ConditionFailed, PlatformRepository
from ninefold_core.events import new_envelope
from ninefold_core.events.schemas.identity import ApiCallsRecorded
from ninefold_core.observability import logger
from ninefold_core.tenant import TenantContext

NAMESPACE = "usage"
SHARDS = 10
LOOKBACK_HOURS = 3
KEEP_SECONDS = 35 * 24 * 3600  # counters outlive a monthly billing period, then TTL removes them
HOUR_FORMAT = "%Y-%m-%dT%H"


def hour_of(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime(HOUR_FORMAT)


def shard_of(tenant_id: str) -> int:
    return int.from_bytes(hashlib.sha256(tenant_id.encode()).digest()[:4], "big") % SHARDS


def _counters(db: IdentityDb) -> PlatformRepository:
    return PlatformRepository(db.table_name, NAMESPACE, db.users.repo.client)


def count_api_call(db: IdentityDb, tenant_id: str, *, now: dt.datetime | None = None) -> None:
    """Add one call to the tenant's counter for this hour; never fails the request."""
    instant = now or dt.datetime.now(dt.UTC)
    hour = hour_of(instant)
    try:
        _counters(db).increment(
            (hour, str(shard_of(tenant_id))),
            f"tenant#{tenant_id}",
            "calls",
            changes={"tenant_id": tenant_id, "hour": hour},
            ttl=int(instant.timestamp()) + KEEP_SECONDS,
        )
    except Exception:  # the request is authorized either way; the call goes uncounted
        logger.warning("could not count the API call", exc_info=True)


@dataclass(frozen=True)
class Reported:
    tenant_id: str
    hour: str
    calls: int  # the delta this report carries


def _finished_hours(before: dt.datetime) -> list[str]:
    start = before.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [hour_of(start - dt.timedelta(hours=n)) for n in range(LOOKBACK_HOURS, 0, -1)]


def _counters_of(db: IdentityDb, hour: str) -> Iterator[dict[str, Any]]:
    repo = _counters(db)
    for shard in range(SHARDS):
        yield from repo.query_all((hour, str(shard)), sk_prefix="tenant#")


def report(db: IdentityDb, *, at: dt.datetime) -> list[Reported]:
    """Emit the calls of every finished hour (up to `LOOKBACK_HOURS` back) not reported yet."""
    done: list[Reported] = []
    repo = _counters(db)
    for hour in _finished_hours(at):
        for counter in _counters_of(db, hour):
            calls, last = int(counter.get("calls", 0)), counter.get("reported")
            reported = int(last or 0)
            if calls <= reported:
                continue
            tenant_id = str(counter["tenant_id"])
            data = ApiCallsRecorded(workspace_id=tenant_id, hour=hour, calls=calls - reported, total=calls)
            ctx = TenantContext.system(tenant_id, "identity")
            try:
                db.transact(
                    [
                        repo.update_op(
                            (hour, str(shard_of(tenant_id))),
                            f"tenant#{tenant_id}",
                            {"reported": calls},
                            # None: not reported before (the attribute is absent).
                            expected={"calls": calls, "reported": last},
                        ),
                        db.event_op(new_envelope(data, ctx)),
                    ]
                )
            except ConditionFailed:
                continue  # a call arrived or another run reported meanwhile: the next run reports it
            done.append(Reported(tenant_id=tenant_id, hour=hour, calls=calls - reported))
    return done
