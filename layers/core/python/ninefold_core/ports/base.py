"""The provider-port pattern: one error vocabulary and one guarded path for outbound calls.

Every adapter, whatever its vendor SDK, surfaces failures as a `ProviderError`, so callers
decide "retry later" or "give up" from the exception class alone and never from a vendor
type or message text. Every outbound call runs through `Guard.call`, which puts it behind a
named circuit breaker and translates what the SDK or the transport raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, TypeVar

if TYPE_CHECKING:
    import pybreaker

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS: Final[float] = 5.0
"""Budget for one outbound call (connect and each read).

Small next to an API Lambda's timeout (API Gateway gives up at 29 s) so that a hung provider
costs one slow request, not a function timeout, and leaves room for the caller to answer.
"""

_DETAIL_LIMIT: Final[int] = 500


class ProviderError(Exception):
    """A provider call did not succeed. Subclasses say whether trying again can help.

    `str()` holds only the provider, status and provider error code, which are safe to log.
    The provider's own message goes to `detail`: it can echo recipients or other tenant data,
    so logging it is a deliberate choice of the caller.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        provider: str,
        summary: str,
        *,
        status: int | None = None,
        code: str | None = None,
        detail: str | None = None,
    ) -> None:
        parts = [f"{provider}: {summary}"]
        if status is not None or code:
            parts.append(f"({' '.join(str(p) for p in (status, code) if p)})")
        super().__init__(" ".join(parts))
        self.provider = provider
        self.status = status
        self.code = code
        self.detail = detail[:_DETAIL_LIMIT] if detail else None


class ProviderUnavailable(ProviderError):
    """The provider could not answer now (timeout, 5xx, 429, breaker open). Retry later."""

    retryable = True


class ProviderTimeout(ProviderUnavailable):
    """No answer within the call's timeout. The provider may still have acted: retry with the
    same idempotency key."""


class ProviderCircuitOpen(ProviderUnavailable):
    """The breaker is open, so the provider was not called at all."""


class ProviderRejected(ProviderError):
    """The provider refused this request (4xx). Sending it again unchanged will fail again."""

    retryable = False


# 408 and 429 are 4xx but say "not now" rather than "never".
_RETRYABLE_4XX: Final[frozenset[int]] = frozenset({408, 425, 429})


def error_for_status(
    provider: str,
    status: int,
    *,
    code: str | None = None,
    detail: str | None = None,
) -> ProviderError:
    """The `ProviderError` an HTTP-style status means, for adapters to raise."""
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return ProviderRejected(provider, "request rejected", status=status, code=code, detail=detail)
    return ProviderUnavailable(provider, "provider unavailable", status=status, code=code, detail=detail)


Classifier = Callable[[BaseException], ProviderError | None]
"""Turns an SDK exception into a `ProviderError`, or returns None when it does not know it."""


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception it was raised from or while handling.

    SDKs often wrap the transport error (a timeout becomes a generic "request failed"); the
    original is still on the chain, and its type is what tells a timeout apart.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify_transport_error(exc: BaseException, *, provider: str) -> ProviderError | None:
    """Standard-library transport failures; the fallback behind every adapter's classifier."""
    chain = list(exception_chain(exc))
    if any(isinstance(e, TimeoutError) for e in chain):
        return ProviderTimeout(provider, "no response within the timeout")
    if any(isinstance(e, ConnectionError) for e in chain):
        return ProviderUnavailable(provider, "connection failed")
    return None


def _counts_as_provider_failure(exc: BaseException) -> bool:
    return isinstance(exc, ProviderUnavailable)


def make_breaker(
    name: str,
    *,
    storage: pybreaker.CircuitBreakerStorage | None = None,
    fail_max: int = 5,
    reset_timeout: float = 30,
    listeners: list[pybreaker.CircuitBreakerListener] | None = None,
) -> pybreaker.CircuitBreaker:
    """A breaker configured the way `Guard` expects.

    Only `ProviderUnavailable` counts as a failure: a 4xx proves the provider is up, and a bug
    in our own adapter should surface as itself rather than open a breaker the whole fleet
    shares. The call that trips the breaker raises its own error (with the real cause), and
    only the calls after it see "circuit open".

    Without `storage` the state lives in this process only: right for fakes and unit tests,
    wrong for a real provider (use `ninefold_core.ports.breaker.breaker_for`).
    """
    import pybreaker

    excluded: list[Callable[[BaseException], bool]] = [lambda exc: not _counts_as_provider_failure(exc)]
    return pybreaker.CircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout,
        exclude=excluded,
        listeners=listeners,
        state_storage=storage,
        name=name,
        throw_new_error_on_trip=False,
    )


class Guard:
    """Runs an adapter's outbound calls through one named breaker, with one timeout budget.

    The guard cannot interrupt a blocking call, so `timeout` is a budget the adapter must hand
    to its transport (SDK client timeout, socket timeout). The guard's part is the breaker and
    the translation of whatever escapes the call into a `ProviderError`.
    """

    def __init__(
        self,
        breaker: pybreaker.CircuitBreaker,
        *,
        provider: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._breaker = breaker
        self.provider = provider
        self.timeout = timeout

    @classmethod
    def in_memory(
        cls,
        provider: str,
        *,
        fail_max: int = 5,
        reset_timeout: float = 30,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> Guard:
        """A guard whose breaker lives in this process: for fakes and local tools only."""
        breaker = make_breaker(provider, fail_max=fail_max, reset_timeout=reset_timeout)
        return cls(breaker, provider=provider, timeout=timeout)

    @property
    def breaker(self) -> pybreaker.CircuitBreaker:
        return self._breaker

    def call(self, fn: Callable[[], T], *, classify: Classifier | None = None) -> T:
        """Run `fn` behind the breaker; raise only `ProviderError`s for provider failures.

        Exceptions that neither `classify` nor the transport fallback recognise propagate
        unchanged: they are our bugs, and hiding them as "provider unavailable" would send
        them into retry loops.
        """
        import pybreaker

        def translated() -> T:
            try:
                return fn()
            except ProviderError:
                raise
            except Exception as exc:
                mapped = (classify(exc) if classify else None) or classify_transport_error(exc, provider=self.provider)
                if mapped is None:
                    raise
                raise mapped from exc

        try:
            return self._breaker.call(translated)
        except pybreaker.CircuitBreakerError as exc:
            raise ProviderCircuitOpen(self.provider, f"circuit '{self._breaker.name}' is open") from exc


def guarded_call(
    breaker: pybreaker.CircuitBreaker,
    fn: Callable[[], T],
    *,
    provider: str,
    classify: Classifier | None = None,
) -> T:
    """One-off form of `Guard(breaker, provider=...).call(fn, classify=...)`."""
    return Guard(breaker, provider=provider).call(fn, classify=classify)


@dataclass(frozen=True)
class SimulatedFault:
    """A failure for a local adapter or fake to act out, so that every adapter of a port can
    run the same conformance suite (and the local cloud can rehearse outages).

    `delay_seconds` is how long the "provider" takes; past the caller's timeout it acts out a
    timeout instead, waiting only as long as a real client would. `status` then fails the call
    as a provider answering with that HTTP status would.
    """

    status: int | None = None
    delay_seconds: float = 0.0
    code: str = "simulated"

    def act_out(
        self,
        *,
        provider: str,
        timeout: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if self.delay_seconds > timeout:
            sleep(timeout)
            raise ProviderTimeout(provider, f"no response within {timeout:g}s")
        if self.delay_seconds > 0:
            sleep(self.delay_seconds)
        if self.status is not None and self.status >= 400:
            raise error_for_status(provider, self.status, code=self.code)
