"""Job declarations, retry math, enqueue and the manifest the stack reads."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from ninefold_core.errors import ConfigurationError
from ninefold_core.jobs import JOBS, JobMessage, JobSpec, RetryPolicy, RunInfo, enqueue, job, queue_settings
from ninefold_core.tenant import TenantContext
from scripts.job_manifests import COMMAND, rendered

CTX = TenantContext.system("tenant-aaaa", "tests")


def test_full_jitter_stays_within_zero_and_the_capped_exponential() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=2, max_delay=60)
    assert [policy.ceiling(n) for n in range(1, 7)] == [2, 4, 8, 16, 32, 60]
    for attempt in range(1, 10):
        assert policy.delay(attempt, rng=lambda: 0.0) == 0
        assert policy.delay(attempt, rng=lambda: 0.999999) == round(policy.ceiling(attempt))
        assert 0 <= policy.delay(attempt) <= policy.ceiling(attempt)


def test_without_jitter_the_delay_is_the_ceiling() -> None:
    assert RetryPolicy(base_delay=3, max_delay=100, jitter=False).delay(3) == 12


def test_retries_only_while_attempts_remain() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.retries_after(n) for n in (1, 2, 3)] == [True, True, False]


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"base_delay": 10, "max_delay": 5}, {"max_delay": 13 * 3600}])
def test_invalid_retry_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|need|cannot"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


class Ping(BaseModel):
    n: int


def test_a_job_is_declared_once() -> None:
    def ping(payload: Ping, run: RunInfo) -> None:
        return None

    spec = job(name="tests.ping", payload=Ping, timeout=5, queue="tests")(ping)
    try:
        assert JOBS["tests.ping"] is spec
        assert queue_settings(queue="tests") == (5, 3)

        def other(payload: Ping, run: RunInfo) -> None:
            return None

        with pytest.raises(ValueError, match="declared twice"):
            job(name="tests.ping", payload=Ping)(other)
    finally:
        del JOBS["tests.ping"]
    with pytest.raises(ConfigurationError):
        queue_settings(queue="tests")


class FakeSqs:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def send_message(self, **request: object) -> None:
        self.sent.append(request)


def test_enqueue_sends_one_message_carrying_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    spec: JobSpec[Ping] = JobSpec(name="tests.ping", payload=Ping, fn=lambda p, r: None)
    sqs = FakeSqs()
    monkeypatch.setenv("JOB_QUEUE_URL", "https://sqs.local/jobs")
    run_id = enqueue(spec, Ping(n=1), CTX, idempotency_key="k", delay=5000, client=sqs)
    (sent,) = sqs.sent
    assert sent["QueueUrl"] == "https://sqs.local/jobs"
    assert sent["DelaySeconds"] == 900  # SQS's limit
    message = JobMessage.model_validate_json(str(sent["MessageBody"]))
    assert (message.run_id, message.job, message.tenant_id, message.payload) == (
        run_id,
        "tests.ping",
        "tenant-aaaa",
        {"n": 1},
    )
    assert message.idempotency_key == "k"


def test_enqueue_without_a_queue_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOB_QUEUE_URL", raising=False)
    with pytest.raises(ConfigurationError):
        enqueue("tests.ping", {"n": 1}, CTX, client=FakeSqs())


def test_each_system_s_manifest_the_stack_reads_matches_its_declarations() -> None:
    manifests = rendered()
    assert any(path.parent.parent.name == "workflows" for path in manifests)
    for path, text in manifests.items():
        assert path.exists(), f"regenerate: {COMMAND}"
        assert json.loads(path.read_text()) == json.loads(text), f"regenerate: {COMMAND}"


def test_a_platform_job_on_a_clock_is_checked_when_declared() -> None:
    from ninefold_core.jobs import NoPayload
    from ninefold_core.jobs.firing import SCHEDULED_TIME, declared_firing, job_message

    def tick(payload: NoPayload, run: RunInfo) -> None:
        return None

    with pytest.raises(ValueError, match="cron"):
        job(name="tests.bad_clock", payload=NoPayload, schedule="cron(61 * * * ? *)")(tick)
    with pytest.raises(ValueError, match="zone"):
        job(name="tests.bad_zone", payload=NoPayload, schedule="rate(1 hour)", timezone="Mars/Olympus")(tick)
    with pytest.raises(ValueError, match="must accept"):
        job(name="tests.needs_input", payload=Ping, schedule="rate(1 hour)")(tick)  # type: ignore[arg-type]

    spec = job(name="tests.clock", payload=NoPayload, schedule="rate(1 hour)", timezone="Europe/Paris")(tick)
    try:
        body = declared_firing(spec)
        assert SCHEDULED_TIME in body
        first = job_message(body.replace(SCHEDULED_TIME, "2026-12-02T10:00:00Z"))
        again = job_message(body.replace(SCHEDULED_TIME, "2026-12-02T10:00:00Z"))
        later = job_message(body.replace(SCHEDULED_TIME, "2026-12-02T11:00:00Z"))
        assert (first.tenant_id, first.schedule_id, first.payload) == ("platform", "declared.tests.clock", {})
        assert first.run_id == again.run_id != later.run_id  # one run per firing, however often delivered
        run = RunInfo(run_id="r", attempt=1, ctx=CTX, scheduled_time=first.scheduled_time)
        assert run.scheduled_at().isoformat() == "2026-12-02T10:00:00+00:00"
    finally:
        for name in ("tests.clock", "tests.bad_clock", "tests.bad_zone", "tests.needs_input"):
            JOBS.pop(name, None)
