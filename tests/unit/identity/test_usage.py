"""API calls per workspace: counted by the authorizer, reported hourly as deltas, never twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.identity.dal.store import IdentityDb
from functions.identity.jobs.usage import report_usage
from functions.identity.logic import usage
from functions.identity.seed import SeededUser, seed_user
from ninefold_core.jobs import PLATFORM_TENANT, NoPayload, RunInfo
from ninefold_core.tenant import TenantContext
from tests.unit.identity.conftest import authorize, events

NINE = dt.datetime(2026, 12, 2, 9, 15, tzinfo=dt.UTC)


def reports(table: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events(table, "usage.api_calls_recorded")]


def test_each_authorized_request_counts_one_call_of_its_workspace(
    identity_env: str, owner: SeededUser, lambda_context: Any
) -> None:
    other = seed_user(identity_env, workspace_name="Other", user_id="usr_other")
    for _ in range(3):
        assert authorize(lambda_context, token=owner.token)["isAuthorized"]
    assert authorize(lambda_context, token=other.token)["isAuthorized"]
    assert not authorize(lambda_context, token="nf_s_forged-token-that-matches-nothing")["isAuthorized"]

    done = usage.report(IdentityDb(identity_env), at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert sorted((r.tenant_id, r.calls) for r in done) == sorted([(owner.tenant_id, 3), (other.tenant_id, 1)])
    by_workspace = {r["workspace_id"]: r for r in reports(identity_env)}
    assert by_workspace[owner.tenant_id]["calls"] == 3
    assert by_workspace[owner.tenant_id]["total"] == 3


def test_a_report_covers_finished_hours_only_and_never_reports_a_call_twice(db: IdentityDb) -> None:
    for _ in range(2):
        usage.count_api_call(db, "ws_aaaaaaaaaaaa", now=NINE)
    usage.count_api_call(db, "ws_aaaaaaaaaaaa", now=NINE + dt.timedelta(hours=1))  # 10:xx, not finished at 10:05

    first = usage.report(db, at=NINE.replace(hour=10, minute=5))
    assert [(r.hour, r.calls) for r in first] == [("2026-12-02T09", 2)]
    assert usage.report(db, at=NINE.replace(hour=10, minute=5)) == []  # a re-run reports nothing again

    # A late call to 09:xx (a skewed clock) is reported by the next run, as a delta.
    usage.count_api_call(db, "ws_aaaaaaaaaaaa", now=NINE)
    later = usage.report(db, at=NINE.replace(hour=11, minute=5))
    assert sorted((r.hour, r.calls) for r in later) == [("2026-12-02T09", 1), ("2026-12-02T10", 1)]
    assert [(e["hour"], e["calls"], e["total"]) for e in reports(db.table_name)] == [
        ("2026-12-02T09", 2, 2),
        ("2026-12-02T09", 1, 3),
        ("2026-12-02T10", 1, 1),
    ]


def test_hours_beyond_the_lookback_are_left_alone(db: IdentityDb) -> None:
    usage.count_api_call(db, "ws_aaaaaaaaaaaa", now=NINE)
    assert usage.report(db, at=NINE + dt.timedelta(hours=usage.LOOKBACK_HOURS + 1)) == []


def test_a_failed_count_never_fails_the_request(db: IdentityDb, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("throttled")

    monkeypatch.setattr(usage.PlatformRepository, "increment", broken)
    usage.count_api_call(db, "ws_aaaaaaaaaaaa", now=NINE)  # no exception


def test_the_report_job_reads_the_hour_from_its_firing_not_the_clock(db: IdentityDb) -> None:
    usage.count_api_call(db, "ws_aaaaaaaaaaaa", now=NINE)
    system = TenantContext.system(PLATFORM_TENANT, "identity")
    late = RunInfo(
        run_id="run_1", attempt=2, ctx=system, table_name=db.table_name, scheduled_time="2026-12-02T10:05:00Z"
    )
    assert report_usage.fn(NoPayload(), late) == {"reports": 1, "calls": 1}
    assert report_usage.schedule == "cron(5 * * * ? *)"


def test_counters_spread_over_shards() -> None:
    shards = {usage.shard_of(f"ws_{n:012d}") for n in range(200)}
    assert shards == set(range(usage.SHARDS))
