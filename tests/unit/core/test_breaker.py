"""Breaker state shared through DynamoDB (moto in-process: no sockets).

Two `CircuitBreaker`s over the same table stand for two Lambda instances; a fake clock
stands for time passing.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import pybreaker
import pytest
from moto import mock_aws

from ninefold_core.ports import (
    DynamoDBBreakerStorage,
    Guard,
    ProviderCircuitOpen,
    ProviderRejected,
    ProviderUnavailable,
    breaker_for,
    clear_breaker_cache,
    make_breaker,
)
from ninefold_core.ports.breaker import PARTITION_KEY

pytestmark = pytest.mark.unit

TABLE = "ninefold-platform-test"
NAME = "resend"
FAIL_MAX = 3
RESET_TIMEOUT = 30.0
CACHE_SECONDS = 1.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingClient:
    """Wraps the boto3 client to count the DynamoDB calls the storage makes."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def get_item(self, **kwargs: Any) -> Any:
        self.calls["get_item"] += 1
        return self._inner.get_item(**kwargs)

    def update_item(self, **kwargs: Any) -> Any:
        self.calls["update_item"] += 1
        return self._inner.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ItemAtomicClient:
    """DynamoDB applies each UpdateItem atomically; moto in-process does not (two threads can
    lose an ADD). Serialising each request stands in for that server-side guarantee, so the
    concurrency test checks the storage's side: no read-modify-write from stale caches."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def update_item(self, **kwargs: Any) -> Any:
        with self._lock:
            return self._inner.update_item(**kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        with self._lock:
            return self._inner.get_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    # Starting moto and building a client cost ~0.5 s: once per module, a fresh table per test.
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamodb(aws: Any) -> Iterator[Any]:
    client = aws
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName=TABLE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def fresh_breaker_cache() -> Iterator[None]:
    clear_breaker_cache()
    yield
    clear_breaker_cache()


def lambda_instance(client: Any, clock: FakeClock, table: str = TABLE) -> Guard:
    """One Lambda instance's view of the breaker: its own storage object and read cache."""
    storage = DynamoDBBreakerStorage(
        NAME, table_name=table, dynamodb_client=client, cache_seconds=CACHE_SECONDS, clock=clock
    )
    breaker = make_breaker(NAME, storage=storage, fail_max=FAIL_MAX, reset_timeout=RESET_TIMEOUT)
    return Guard(breaker, provider=NAME)


class Provider:
    def __init__(self, *, failing: bool) -> None:
        self.failing = failing
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failing:
            raise ProviderUnavailable(NAME, "down", status=503)
        return "sent"


def fail(guard: Guard, times: int) -> None:
    provider = Provider(failing=True)
    for _ in range(times):
        with pytest.raises(ProviderUnavailable):
            guard.call(provider)


def stored_item(client: Any) -> dict[str, Any]:
    item: dict[str, Any] = client.get_item(
        TableName=TABLE, Key={"pk": {"S": PARTITION_KEY}, "sk": {"S": NAME}}, ConsistentRead=True
    )["Item"]
    return item


# -- opening ----------------------------------------------------------------------------


def test_the_breaker_stays_closed_below_fail_max(dynamodb: Any, clock: FakeClock) -> None:
    guard = lambda_instance(dynamodb, clock)

    fail(guard, FAIL_MAX - 1)

    assert guard.breaker.current_state == "closed"
    assert guard.call(Provider(failing=False)) == "sent"


def test_the_breaker_opens_after_fail_max_failures_and_records_it_in_one_item(dynamodb: Any, clock: FakeClock) -> None:
    # Given
    guard = lambda_instance(dynamodb, clock)

    # When
    fail(guard, FAIL_MAX)

    # Then
    provider = Provider(failing=False)
    with pytest.raises(ProviderCircuitOpen):
        guard.call(provider)
    assert provider.calls == 0
    item = stored_item(dynamodb)
    assert item["state"] == {"S": "open"}
    assert item["fail_counter"] == {"N": str(FAIL_MAX)}
    assert float(item["opened_at"]["N"]) == clock.now


def test_an_open_circuit_is_seen_by_another_instance_once_its_cache_expires(dynamodb: Any, clock: FakeClock) -> None:
    # Given instance B has read the (closed) state, then instance A trips the breaker
    a, b = lambda_instance(dynamodb, clock), lambda_instance(dynamodb, clock)
    assert b.call(Provider(failing=False)) == "sent"
    fail(a, FAIL_MAX)

    # When B is called within its cache period, it still reaches the provider (the trade-off)
    within_cache = Provider(failing=False)
    b.call(within_cache)
    assert within_cache.calls == 1

    # Then once its cache expires, B refuses without calling the provider
    clock.advance(CACHE_SECONDS)
    after_cache = Provider(failing=False)
    with pytest.raises(ProviderCircuitOpen):
        b.call(after_cache)
    assert after_cache.calls == 0


def test_failures_on_different_instances_add_up_to_open_the_circuit(dynamodb: Any, clock: FakeClock) -> None:
    # Given three instances that each see one failure
    instances = [lambda_instance(dynamodb, clock) for _ in range(FAIL_MAX)]

    # When
    for instance in instances:
        fail(instance, 1)

    # Then the fleet-wide count reached fail_max and the last instance opened the circuit
    assert stored_item(dynamodb)["state"] == {"S": "open"}


def test_concurrent_failures_from_many_instances_are_all_counted(dynamodb: Any, clock: FakeClock) -> None:
    # Given many instances whose caches all say "no failures yet"
    table = ItemAtomicClient(dynamodb)
    storages = [DynamoDBBreakerStorage(NAME, table_name=TABLE, dynamodb_client=table, clock=clock) for _ in range(8)]
    for storage in storages:
        assert storage.counter == 0

    # When they all record failures at once
    def record(storage: DynamoDBBreakerStorage) -> None:
        for _ in range(10):
            storage.increment_counter()

    with ThreadPoolExecutor(max_workers=len(storages)) as pool:
        list(pool.map(record, storages))

    # Then no increment is lost (ADD, never read-modify-write)
    assert stored_item(dynamodb)["fail_counter"] == {"N": "80"}


def test_rejections_do_not_count_towards_opening(dynamodb: Any, clock: FakeClock) -> None:
    guard = lambda_instance(dynamodb, clock)

    def rejected() -> str:
        raise ProviderRejected(NAME, "bad request", status=422)

    for _ in range(FAIL_MAX + 2):
        with pytest.raises(ProviderRejected):
            guard.call(rejected)

    assert guard.breaker.current_state == "closed"


# -- recovering -------------------------------------------------------------------------


def test_an_open_circuit_half_opens_after_reset_timeout_and_a_successful_trial_closes_it(
    dynamodb: Any, clock: FakeClock
) -> None:
    # Given an open circuit
    a, b = lambda_instance(dynamodb, clock), lambda_instance(dynamodb, clock)
    fail(a, FAIL_MAX)
    clock.advance(RESET_TIMEOUT - 1)
    with pytest.raises(ProviderCircuitOpen):
        a.call(Provider(failing=False))

    # When the reset timeout has passed and a call comes in
    clock.advance(1.5)
    trial = Provider(failing=False)
    assert a.call(trial) == "sent"

    # Then the trial reached the provider and the circuit is closed for everyone
    assert trial.calls == 1
    item = stored_item(dynamodb)
    assert (item["state"], item["fail_counter"]) == ({"S": "closed"}, {"N": "0"})
    clock.advance(CACHE_SECONDS)
    assert b.call(Provider(failing=False)) == "sent"


def test_a_failed_trial_call_reopens_the_circuit_for_another_reset_timeout(dynamodb: Any, clock: FakeClock) -> None:
    # Given an open circuit whose reset timeout has passed
    guard = lambda_instance(dynamodb, clock)
    fail(guard, FAIL_MAX)
    clock.advance(RESET_TIMEOUT + 1)

    # When the trial call fails
    with pytest.raises(ProviderUnavailable) as raised:
        guard.call(Provider(failing=True))
    assert not isinstance(raised.value, ProviderCircuitOpen)

    # Then the circuit is open again, from now
    assert stored_item(dynamodb)["state"] == {"S": "open"}
    assert float(stored_item(dynamodb)["opened_at"]["N"]) == clock.now
    with pytest.raises(ProviderCircuitOpen):
        guard.call(Provider(failing=False))


def test_only_one_instance_moves_an_open_circuit_to_half_open(dynamodb: Any, clock: FakeClock) -> None:
    # Given two instances that both saw the circuit open
    opener = lambda_instance(dynamodb, clock)
    fail(opener, FAIL_MAX)
    a = DynamoDBBreakerStorage(NAME, table_name=TABLE, dynamodb_client=dynamodb, clock=clock)
    b = DynamoDBBreakerStorage(NAME, table_name=TABLE, dynamodb_client=dynamodb, clock=clock)
    assert a.state == b.state == "open"

    # When both try to half-open it
    a.state = pybreaker.STATE_HALF_OPEN
    with pytest.raises(pybreaker.CircuitBreakerError):
        b.state = pybreaker.STATE_HALF_OPEN

    # Then the loser's view is refreshed to the winner's write
    assert b.state == "half-open"
    assert stored_item(dynamodb)["state"] == {"S": "half-open"}


def test_an_instance_whose_cache_was_behind_does_not_push_back_the_reopening_time(
    dynamodb: Any, clock: FakeClock
) -> None:
    # Given instance B read "closed", then instance A opened the circuit
    a, b = lambda_instance(dynamodb, clock), lambda_instance(dynamodb, clock)
    assert b.call(Provider(failing=False)) == "sent"
    fail(a, FAIL_MAX)
    opened_at = clock.now

    # When B, still within its cache period, sees a failure and trips the circuit too
    clock.advance(0.5)
    fail(b, 1)

    # Then the circuit keeps the first opening time
    item = stored_item(dynamodb)
    assert item["state"] == {"S": "open"}
    assert float(item["opened_at"]["N"]) == opened_at


def test_a_late_successful_trial_does_not_close_a_circuit_another_trial_reopened(
    dynamodb: Any, clock: FakeClock
) -> None:
    # Given an open circuit past its reset timeout, half-opened by instance A
    fail(lambda_instance(dynamodb, clock), FAIL_MAX)
    clock.advance(RESET_TIMEOUT + 1)
    a = DynamoDBBreakerStorage(NAME, table_name=TABLE, dynamodb_client=dynamodb, clock=clock)
    b = DynamoDBBreakerStorage(NAME, table_name=TABLE, dynamodb_client=dynamodb, clock=clock)
    a.state = pybreaker.STATE_HALF_OPEN

    # When B's trial fails and re-opens it, and only then A's trial succeeds
    assert b.state == "half-open"
    b.opened_at = datetime.now(UTC)
    b.state = pybreaker.STATE_OPEN
    a.state = pybreaker.STATE_CLOSED

    # Then the failure wins: the circuit stays open, and A now knows it
    assert stored_item(dynamodb)["state"] == {"S": "open"}
    assert a.state == "open"


# -- cost of the hot path ---------------------------------------------------------------


def test_a_hot_instance_reads_the_table_at_most_once_per_cache_period(dynamodb: Any, clock: FakeClock) -> None:
    # Given
    counting = CountingClient(dynamodb)
    guard = lambda_instance(counting, clock)
    provider = Provider(failing=False)

    # When many calls succeed within one cache period, then once more after it
    for _ in range(50):
        guard.call(provider)
    reads_within_period = counting.calls["get_item"]
    clock.advance(CACHE_SECONDS)
    guard.call(provider)

    # Then
    assert provider.calls == 51
    assert reads_within_period == 1
    assert counting.calls["get_item"] == 2


def test_successes_with_no_failures_recorded_write_nothing(dynamodb: Any, clock: FakeClock) -> None:
    counting = CountingClient(dynamodb)
    guard = lambda_instance(counting, clock)

    for _ in range(20):
        guard.call(Provider(failing=False))

    assert counting.calls["update_item"] == 0


def test_an_instance_sees_its_own_writes_without_waiting_for_its_cache(dynamodb: Any, clock: FakeClock) -> None:
    storage = DynamoDBBreakerStorage(NAME, table_name=TABLE, dynamodb_client=dynamodb, clock=clock)
    assert storage.counter == 0

    storage.increment_counter()
    storage.increment_counter()

    assert storage.counter == 2


# -- when the table itself fails --------------------------------------------------------


def test_an_unreachable_breaker_table_fails_open_and_logs(
    dynamodb: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a breaker whose table does not exist
    guard = lambda_instance(dynamodb, clock, table="no-such-table")
    provider = Provider(failing=False)

    # When
    with caplog.at_level(logging.WARNING, logger="ninefold_core.ports.breaker"):
        result = guard.call(provider)
        fail(guard, FAIL_MAX + 1)

    # Then calls still reach the provider, and the failure to record state is visible
    assert result == "sent"
    assert provider.calls == 1
    assert any(r.getMessage() == "breaker storage unavailable; failing open" for r in caplog.records)


# -- the per-process factory ------------------------------------------------------------


def test_breaker_for_returns_the_same_breaker_for_the_same_name_and_table(
    dynamodb: Any,
) -> None:
    first = breaker_for(NAME, TABLE, dynamodb)
    again = breaker_for(NAME, TABLE, dynamodb)
    other = breaker_for("ses", TABLE, dynamodb)

    assert first is again
    assert other is not first
    assert (first.fail_max, first.reset_timeout) == (5, 30)


def test_breaker_for_refuses_conflicting_limits_for_one_breaker(dynamodb: Any) -> None:
    breaker_for(NAME, TABLE, dynamodb, fail_max=5)

    with pytest.raises(ValueError, match="already exists"):
        breaker_for(NAME, TABLE, dynamodb, fail_max=2)
