"""Fairness end to end (ADR 0013): a noisy tenant's backlog does not starve a quiet tenant.

Tenant A enqueues 10x as many `workflows.sleep` runs as tenant B, at the same instant (every
message is sent with the longest delay and released by one clock jump). The worker admits at most
`concurrency` (2) runs of a tenant per job at a time and defers the rest behind newer work, so B's
runs finish early in the completion order instead of after A's backlog.
"""

from __future__ import annotations

import uuid
from typing import Any

from functions.workflows.jobs.sleep import SleepPayload
from ninefold_core.jobs import JOBS, MAX_DELAY_SECONDS, build_message, send
from ninefold_core.tenant import TenantContext
from tests.support.cloud import SignedInUser, _sign_in, requires_system

pytestmark = requires_system("workflows")

QUEUE = "Ninefold-Workflows/JobQueue/Resource"
NOISY, QUIET = 100, 10
LIMIT = JOBS["workflows.sleep"].concurrency
# Longer than a deferral (fairness.DEFER_MAX_SECONDS), shorter than any backoff that matters here.
DEFERRAL = 6


def fresh(cloud: Any, name: str) -> SignedInUser:
    return _sign_in(cloud, name, f"usr_{name.lower()}_{uuid.uuid4().hex[:8]}")


def enqueue_at_once(cloud: Any, batches: list[tuple[SignedInUser, int]]) -> dict[str, list[str]]:
    """Send every message with the same (maximum) delay, then release them all with one jump."""
    sqs, url = cloud.client("sqs"), cloud.resource(QUEUE).url
    sent: dict[str, list[str]] = {user.tenant_id: [] for user, _ in batches}
    rounds = max(count for _, count in batches)
    for i in range(rounds):  # interleaved, like two clients sending concurrently at their own rates
        for user, count in batches:
            if i % (rounds // count) == 0:
                ctx = TenantContext.system(user.tenant_id, "workflows")
                message = build_message("workflows.sleep", SleepPayload(seconds=0), ctx)
                send(message, delay=MAX_DELAY_SECONDS, queue_url=url, client=sqs)
                sent[user.tenant_id].append(message.run_id)
    cloud.clock.advance(MAX_DELAY_SECONDS)
    return sent


def drain(cloud: Any, user_runs: dict[str, tuple[SignedInUser, list[str]]]) -> list[tuple[str, str]]:
    """Let the worker run (deferred messages come back after a few seconds) until every run ended;
    the completion order as (finished_at, tenant)."""
    for _ in range(200):
        # A guard against a hang, not a time limit: on a loaded machine the batches simply take longer.
        cloud.settle(timeout=300)
        finished = []
        for tenant_id, (user, run_ids) in user_runs.items():
            for run_id in run_ids:
                reply = user.api.get(f"/api/v1/runs/{run_id}")
                if reply.status == 200 and reply.json["status"] == "succeeded":
                    finished.append((reply.json["finished_at"], tenant_id))
        if len(finished) == sum(len(ids) for _, ids in user_runs.values()):
            return sorted(finished)
        cloud.clock.advance(DEFERRAL)
    raise AssertionError("the runs did not all finish")


def test_a_noisy_tenant_does_not_starve_a_quiet_one(cloud: Any) -> None:
    noisy, quiet = fresh(cloud, "Noisy"), fresh(cloud, "Quiet")
    sent = enqueue_at_once(cloud, [(noisy, NOISY), (quiet, QUIET)])
    assert (len(sent[noisy.tenant_id]), len(sent[quiet.tenant_id])) == (NOISY, QUIET)

    order = drain(
        cloud,
        {
            noisy.tenant_id: (noisy, sent[noisy.tenant_id]),
            quiet.tenant_id: (quiet, sent[quiet.tenant_id]),
        },
    )

    tenants = [tenant for _, tenant in order]
    last_quiet = max(i for i, tenant in enumerate(tenants) if tenant == quiet.tenant_id) + 1
    noisy_done_by_then = tenants[:last_quiet].count(noisy.tenant_id)
    # Without fairness B's last run would finish near the end (~110th); with it, B gets its share
    # of every batch while A's excess is deferred behind newer work.
    trace = "".join("B" if t == quiet.tenant_id else "A" for t in tenants)
    assert last_quiet <= 3 * QUIET + LIMIT, (last_quiet, trace)
    assert noisy_done_by_then <= NOISY // 4, noisy_done_by_then
