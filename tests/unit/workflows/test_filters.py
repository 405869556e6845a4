"""Server-side run filters (status, job, both) and the operators' cross-tenant view of failed runs."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from functions.workflows.dal.runs import AdminRunStore
from functions.workflows.jobs.echo import EchoPayload
from functions.workflows.jobs.sleep import SleepPayload
from functions.workflows.logic import runs
from functions.workflows.models.runs import EnqueueRequest
from ninefold_core.errors import BadRequest
from ninefold_core.jobs import JOBS, build_message, execution
from ninefold_core.jobs.store import RunStore
from ninefold_core.tenant import TenantContext
from tests.support.events import http_event
from tests.unit.workflows.test_dead_letters import OPERATOR, OWNER, queues_env

A = TenantContext.system("tenant-aaaa", "workflows")
B = TenantContext.system("tenant-bbbb", "workflows")
__all__ = ["queues_env"]


def clock() -> Any:
    ticks = itertools.count(1_700_000_000)
    return lambda: float(next(ticks))


def finish(store: RunStore, ctx: TenantContext, job: str, payload: Any) -> str:
    """Run a job's message until it ends (succeeded, or failed after its attempts)."""
    message = build_message(job, payload, ctx)
    for attempt in (1, 2, 3):
        if execution.execute(message, attempt, store=store, jobs=JOBS, ctx=ctx, now=clock(), rng=lambda: 0).done:
            break
    return message.run_id


@pytest.fixture
def history(table: str) -> dict[str, list[str]]:
    store = RunStore(table, A)
    made: dict[str, list[str]] = {"echo-ok": [], "echo-failed": [], "sleep-ok": [], "queued": []}
    for _ in range(3):
        made["echo-ok"].append(finish(store, A, "workflows.echo", EchoPayload(message="ok")))
        made["sleep-ok"].append(finish(store, A, "workflows.sleep", SleepPayload()))
    for _ in range(2):
        made["echo-failed"].append(finish(store, A, "workflows.echo", EchoPayload(message="no", fail_times=9)))
    for _ in range(2):
        run, _ = runs.submit(
            EnqueueRequest(job="workflows.echo", payload={"message": "wait"}),
            A,
            store=store,
            jobs=JOBS,
            send=lambda m: None,
        )
        made["queued"].append(run.run_id)
    finish(RunStore(table, B), B, "workflows.echo", EchoPayload(message="other", fail_times=9))
    return made


def ids(store: RunStore, **filters: Any) -> set[str]:
    return {r.run_id for r in runs.page(store, limit=100, cursor=None, **filters).items}


def test_status_job_and_both_select_exactly_their_runs(table: str, history: dict[str, list[str]]) -> None:
    store = RunStore(table, A)
    assert ids(store, status="failed") == set(history["echo-failed"])
    assert ids(store, status="queued") == set(history["queued"])
    assert ids(store, job="workflows.sleep") == set(history["sleep-ok"])
    assert ids(store, status="succeeded", job="workflows.echo") == set(history["echo-ok"])
    assert ids(store, status="succeeded", job="workflows.sleep") == set(history["sleep-ok"])
    assert ids(store, status="cancelled") == set()
    assert len(ids(store)) == 10


def test_a_cancelled_or_replayed_run_moves_between_status_partitions(table: str, history: dict[str, list[str]]) -> None:
    store = RunStore(table, A)
    runs.cancel(history["queued"][0], store)
    assert ids(store, status="cancelled", job="workflows.echo") == {history["queued"][0]}
    assert history["queued"][0] not in ids(store, status="queued")
    runs.replay(history["echo-failed"][0], store, A, send=lambda m: None)
    assert ids(store, status="failed") == {history["echo-failed"][1]}
    assert history["echo-failed"][0] in ids(store, status="queued")


def test_filtered_pages_are_full_and_the_cursor_continues_the_same_filter(
    table: str, history: dict[str, list[str]]
) -> None:
    store = RunStore(table, A)
    first = runs.page(store, limit=2, cursor=None, status="succeeded")
    assert len(first.items) == 2
    assert first.cursor
    rest = runs.page(store, limit=100, cursor=first.cursor, status="succeeded")
    seen = [r.run_id for r in first.items + rest.items]
    assert sorted(seen) == sorted(history["echo-ok"] + history["sleep-ok"])
    with pytest.raises(BadRequest):
        runs.page(store, limit=2, cursor=first.cursor, status="failed")  # a cursor of another filter


def test_the_operators_view_lists_failed_runs_of_every_tenant(table: str, history: dict[str, list[str]]) -> None:
    page = runs.failed_across_tenants(AdminRunStore(table), limit=100, cursor=None)
    assert {(r.tenant_id, r.status) for r in page.items} == {("tenant-aaaa", "failed"), ("tenant-bbbb", "failed")}
    assert {r.run_id for r in page.items if r.tenant_id == "tenant-aaaa"} == set(history["echo-failed"])
    runs.replay(history["echo-failed"][0], RunStore(table, A), A, send=lambda m: None)
    after = runs.failed_across_tenants(AdminRunStore(table), limit=100, cursor=None)
    assert history["echo-failed"][0] not in {r.run_id for r in after.items}  # no longer failed


def call(path: str, ctx: TenantContext, lambda_context: Any, **query: str) -> tuple[int, Any]:
    from functions.workflows.handlers import api

    response = api.handler(http_event("GET", path, ctx=ctx, query=query or None), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_the_admin_route_is_for_operators_only(
    queues_env: tuple[str, str], history: dict[str, list[str]], lambda_context: Any
) -> None:
    assert call("/api/v1/admin/runs", OWNER, lambda_context)[0] == 403  # `*` is not enough
    status, body = call("/api/v1/admin/runs", OPERATOR, lambda_context, limit="100")
    assert status == 200
    assert {(r["tenant_id"], r["run_id"]) for r in body["items"] if r["tenant_id"] == "tenant-aaaa"} == {
        ("tenant-aaaa", run_id) for run_id in history["echo-failed"]
    }
    assert {r["tenant_id"] for r in body["items"]} == {"tenant-aaaa", "tenant-bbbb"}


def test_the_list_route_filters_and_rejects_an_unknown_status(
    queues_env: tuple[str, str], history: dict[str, list[str]], lambda_context: Any
) -> None:
    reader = TenantContext(tenant_id="tenant-aaaa", user_id="usr_r", permissions=frozenset({"jobs:read"}))
    status, body = call("/api/v1/runs", reader, lambda_context, status="failed", job="workflows.echo")
    assert (status, {r["run_id"] for r in body["items"]}) == (200, set(history["echo-failed"]))
    assert call("/api/v1/runs", reader, lambda_context, status="lost")[0] == 422


def test_the_declared_jobs_are_listed_from_their_declarations(queues_env: tuple[str, str], lambda_context: Any) -> None:
    from ninefold_core.jobs import JOBS

    reader = TenantContext(tenant_id="tenant-aaaa", user_id="usr_r", permissions=frozenset({"jobs:read"}))
    status, body = call("/api/v1/jobs", reader, lambda_context)
    assert status == 200
    listed = {job["name"]: job for job in body["jobs"]}
    assert set(listed) == {name for name in JOBS if name.startswith("workflows.")}
    echo = listed["workflows.echo"]
    assert echo["max_attempts"] == JOBS["workflows.echo"].retry.max_attempts
    assert echo["concurrency"] == JOBS["workflows.echo"].concurrency
    assert "message" in echo["payload_schema"]["properties"]
    nobody = TenantContext(tenant_id="tenant-aaaa", user_id="usr_n")
    assert call("/api/v1/jobs", nobody, lambda_context)[0] == 403
