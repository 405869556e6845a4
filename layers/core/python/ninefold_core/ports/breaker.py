"""Circuit-breaker state shared by every Lambda instance, kept in the system's own table.

One item per breaker: ``pk = "P#breaker"``, ``sk = <breaker name>``, holding
``state``, ``fail_counter``, ``success_counter``, ``opened_at`` (epoch seconds) and
``updated_at``.

Why these choices:

* Counters move with ``UpdateItem ADD``, never read-modify-write, so failures seen by many
  instances at once all count. Each write returns the new item, so the instance that wrote
  sees its own write at once.
* State moves are conditional writes. open -> half-open requires ``state = open``: when several
  instances see the reset timeout pass together, exactly one makes the move; the others have
  that call rejected as if the circuit were still open. Closing requires ``half-open`` (a late
  success cannot undo another instance's re-open), and opening an already open circuit is a
  no-op that keeps the first ``opened_at``.
* Reads are cached for ``cache_seconds`` (1 s by default). Without the cache every guarded call
  would first do a consistent ``GetItem`` (a few ms and one read unit) even when all is well.
  The price: an instance can go on calling a provider for up to ``cache_seconds`` after
  another instance opened the circuit, and can see a recovery that much late. With
  ``fail_max`` failures needed to open, a second of extra calls to a failing provider is
  cheap; a GetItem on every hot call is not.
* A success with no failures recorded writes nothing (the cached counter is already 0), so
  the healthy hot path costs at most one GetItem per ``cache_seconds`` per breaker.
* If the table cannot be reached the storage fails open: it keeps the last state it knew
  (closed if none) and logs. A broken breaker store must not stop email going out. Give the
  injected client short timeouts and few retries (for example botocore
  ``Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2})``).
* pybreaker reads the wall clock itself to decide when an open circuit may be retried. The
  storage keeps ``opened_at`` on its own injectable clock and reports it back to pybreaker
  relative to now, so tests (and the local cloud's time warp) control when a circuit
  half-opens.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pybreaker

from ninefold_core.ports.base import make_breaker

logger = logging.getLogger(__name__)

PARTITION_KEY: Final[str] = "P#breaker"
DEFAULT_CACHE_SECONDS: Final[float] = 1.0

Clock = Callable[[], float]

_STATES: Final[frozenset[str]] = frozenset({pybreaker.STATE_CLOSED, pybreaker.STATE_OPEN, pybreaker.STATE_HALF_OPEN})


@dataclass(frozen=True)
class _Snapshot:
    state: str = pybreaker.STATE_CLOSED
    fail_counter: int = 0
    success_counter: int = 0
    opened_at: float | None = None


class _LostRace(Exception):
    """Another instance changed the state first."""


def _parse(item: dict[str, Any] | None, name: str) -> _Snapshot:
    if not item:
        return _Snapshot()
    state = item.get("state", {}).get("S", pybreaker.STATE_CLOSED)
    if state not in _STATES:
        logger.warning("unknown breaker state; treating as closed", extra={"breaker": name})
        state = pybreaker.STATE_CLOSED
    opened_at = item.get("opened_at", {}).get("N")
    return _Snapshot(
        state=state,
        fail_counter=int(item.get("fail_counter", {}).get("N", "0")),
        success_counter=int(item.get("success_counter", {}).get("N", "0")),
        opened_at=float(opened_at) if opened_at is not None else None,
    )


def _number(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


class DynamoDBBreakerStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker storage over one DynamoDB item; see the module docstring for the trade-offs.

    `dynamodb_client` is a boto3 DynamoDB *client* (not a resource), injected so the caller
    owns its configuration and its lifetime.
    """

    def __init__(
        self,
        name: str,
        *,
        table_name: str,
        dynamodb_client: Any,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        if not name:
            raise ValueError("a breaker needs a name")
        if not table_name:
            raise ValueError("a breaker needs a table name")
        super().__init__(name)
        self._table_name = table_name
        self._client = dynamodb_client
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._key = {"pk": {"S": PARTITION_KEY}, "sk": {"S": name}}
        self._snapshot: _Snapshot | None = None
        self._fetched_at = 0.0
        self._lock = threading.RLock()

    # -- reading -------------------------------------------------------------------------

    def _read(self) -> _Snapshot:
        from botocore.exceptions import BotoCoreError, ClientError

        with self._lock:
            now = self._clock()
            if self._snapshot is not None and now - self._fetched_at < self._cache_seconds:
                return self._snapshot
            try:
                response = self._client.get_item(TableName=self._table_name, Key=self._key, ConsistentRead=True)
            except (BotoCoreError, ClientError) as exc:
                self._log_storage_failure("read", exc)
                # Keep serving the last known state for a full cache period instead of
                # hammering a table that is already failing.
                fallback = self._snapshot or _Snapshot()
                self._remember(fallback)
                return fallback
            snapshot = _parse(response.get("Item"), self.name)
            self._remember(snapshot)
            return snapshot

    def _remember(self, snapshot: _Snapshot) -> None:
        self._snapshot = snapshot
        self._fetched_at = self._clock()

    def invalidate_cache(self) -> None:
        """Forget the cached item so the next read goes to the table."""
        with self._lock:
            self._snapshot = None

    # -- writing -------------------------------------------------------------------------

    def _update(
        self,
        values: dict[str, dict[str, str]],
        *,
        set_: str = "",
        add: str = "",
        condition: str | None = None,
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        expression = "SET " + ", ".join(filter(None, (set_, "updated_at = :updated_at")))
        if add:
            expression += f" ADD {add}"
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "Key": self._key,
            "UpdateExpression": expression,
            "ExpressionAttributeValues": {**values, ":updated_at": _number(self._clock())},
            "ReturnValues": "ALL_NEW",
        }
        if "#state" in expression or "#state" in (condition or ""):
            request["ExpressionAttributeNames"] = {"#state": "state"}
        if condition:
            request["ConditionExpression"] = condition
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        with self._lock:
            try:
                response = self._client.update_item(**request)
            except self._client.exceptions.ConditionalCheckFailedException as exc:
                self._remember(_parse(exc.response.get("Item"), self.name))
                raise _LostRace from exc
            except (BotoCoreError, ClientError) as exc:
                self._log_storage_failure("write", exc)
                self.invalidate_cache()
                return
            self._remember(_parse(response.get("Attributes"), self.name))

    def _log_storage_failure(self, operation: str, exc: Exception) -> None:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        logger.warning(
            "breaker storage unavailable; failing open",
            extra={"breaker": self.name, "operation": operation, "error_code": code},
        )

    # -- pybreaker's storage interface -----------------------------------------------------

    @property
    def state(self) -> str:
        return self._read().state

    @state.setter
    def state(self, state: str) -> None:
        if state == pybreaker.STATE_HALF_OPEN:
            try:
                self._update(
                    {":half_open": {"S": state}, ":open": {"S": pybreaker.STATE_OPEN}, ":zero": _number(0)},
                    set_="#state = :half_open, success_counter = :zero",
                    condition="#state = :open",
                )
            except _LostRace as exc:
                # Raised inside pybreaker's open-state check, this rejects the call exactly
                # as an open circuit would: the winner of the race runs the trial call.
                raise pybreaker.CircuitBreakerError(
                    f"circuit '{self.name}' is being probed by another instance"
                ) from exc
        elif state == pybreaker.STATE_CLOSED:
            # Only a successful trial closes. If another instance's trial failed and re-opened
            # the circuit meanwhile, its evidence wins: losing here is fine, and pybreaker
            # picks the stored state up on its next read. (To force-close by hand, set
            # state = closed on the item.)
            with contextlib.suppress(_LostRace):
                self._update(
                    {":closed": {"S": state}, ":half_open": {"S": pybreaker.STATE_HALF_OPEN}, ":zero": _number(0)},
                    set_="#state = :closed, fail_counter = :zero, success_counter = :zero",
                    condition="#state = :half_open",
                )
        else:
            # Opening an already open circuit (an instance whose cache was behind) changes
            # nothing.
            with contextlib.suppress(_LostRace):
                self._update(
                    {":state": {"S": state}, ":zero": _number(0)},
                    set_="#state = :state, success_counter = :zero",
                    condition="attribute_not_exists(#state) OR #state <> :state",
                )

    def increment_counter(self) -> None:
        self._update({":one": _number(1)}, add="fail_counter :one")

    def reset_counter(self) -> None:
        if self._read().fail_counter:
            self._update({":zero": _number(0)}, set_="fail_counter = :zero")

    def increment_success_counter(self) -> None:
        self._update({":one": _number(1)}, add="success_counter :one")

    def reset_success_counter(self) -> None:
        if self._read().success_counter:
            self._update({":zero": _number(0)}, set_="success_counter = :zero")

    @property
    def counter(self) -> int:
        return self._read().fail_counter

    @property
    def success_counter(self) -> int:
        return self._read().success_counter

    @property
    def opened_at(self) -> datetime | None:
        opened_at = self._read().opened_at
        if opened_at is None:
            return None
        elapsed = max(0.0, self._clock() - opened_at)
        return datetime.now(UTC) - timedelta(seconds=elapsed)

    @opened_at.setter
    def opened_at(self, _pybreaker_now: datetime) -> None:
        # The first instance to open the circuit sets the clock; one whose cache was behind
        # must not push the retry time back by tripping it again.
        with contextlib.suppress(_LostRace):
            self._update(
                {":now": _number(self._clock()), ":open": {"S": pybreaker.STATE_OPEN}},
                set_="opened_at = :now",
                condition="attribute_not_exists(#state) OR #state <> :open",
            )


class _LogStateChanges(pybreaker.CircuitBreakerListener):
    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        level = logging.WARNING if new_state.name == pybreaker.STATE_OPEN else logging.INFO
        logger.log(
            level,
            "circuit state changed",
            extra={
                "breaker": cb.name,
                "from_state": old_state.name if old_state else None,
                "to_state": new_state.name,
            },
        )


_breakers: dict[tuple[str, str], pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(
    name: str,
    table_name: str,
    dynamodb_client: Any,
    fail_max: int = 5,
    reset_timeout: float = 30,
    *,
    cache_seconds: float = DEFAULT_CACHE_SECONDS,
    clock: Clock = time.time,
) -> pybreaker.CircuitBreaker:
    """The process-wide breaker `name`, its state shared through `table_name`.

    Cached per process so that a warm Lambda keeps its read cache between invocations and
    every adapter of one provider trips the same breaker. The first caller's client is kept;
    asking again with other limits is a wiring bug and raises `ValueError`.
    """
    key = (table_name, name)
    with _breakers_lock:
        existing = _breakers.get(key)
        if existing is not None:
            if (existing.fail_max, existing.reset_timeout) != (fail_max, reset_timeout):
                raise ValueError(
                    f"breaker '{name}' already exists with fail_max={existing.fail_max}, "
                    f"reset_timeout={existing.reset_timeout}"
                )
            return existing
        storage = DynamoDBBreakerStorage(
            name,
            table_name=table_name,
            dynamodb_client=dynamodb_client,
            cache_seconds=cache_seconds,
            clock=clock,
        )
        breaker = make_breaker(
            name,
            storage=storage,
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            listeners=[_LogStateChanges()],
        )
        _breakers[key] = breaker
        return breaker


def clear_breaker_cache() -> None:
    """Forget every process-wide breaker (tests build a fresh table per test)."""
    with _breakers_lock:
        _breakers.clear()
