"""The guard: breaker, error translation and the provider error vocabulary (no I/O)."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ninefold_core.ports import (
    Guard,
    ProviderCircuitOpen,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    SimulatedFault,
    error_for_status,
    guarded_call,
    make_breaker,
)

pytestmark = pytest.mark.unit


class VendorError(Exception):
    """Stands in for an SDK's own exception type."""

    def __init__(self, status: int) -> None:
        super().__init__(f"vendor failed with {status}")
        self.status = status


def classify_vendor(exc: BaseException) -> ProviderError | None:
    if isinstance(exc, VendorError):
        return error_for_status("vendor", exc.status)
    return None


class Provider:
    """A scripted provider call that records whether it was reached."""

    def __init__(self, *outcomes: BaseException | str) -> None:
        self._outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        outcome = self._outcomes.pop(0) if self._outcomes else "ok"
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def a_guard(fail_max: int = 3) -> Guard:
    return Guard.in_memory("vendor", fail_max=fail_max, timeout=0.5)


def test_a_successful_call_returns_the_providers_answer() -> None:
    guard = a_guard()

    assert guard.call(Provider("accepted")) == "accepted"


def test_an_sdk_error_is_translated_by_the_adapters_classifier() -> None:
    # Given
    guard = a_guard()
    provider = Provider(VendorError(503))

    # When
    with pytest.raises(ProviderUnavailable) as raised:
        guard.call(provider, classify=classify_vendor)

    # Then the original error stays attached for debugging
    assert raised.value.status == 503
    assert isinstance(raised.value.__cause__, VendorError)


def test_a_standard_library_timeout_is_a_provider_timeout() -> None:
    guard = a_guard()

    with pytest.raises(ProviderTimeout):
        guard.call(Provider(TimeoutError("timed out")))


def test_a_timeout_wrapped_by_an_sdk_is_still_a_provider_timeout() -> None:
    # Given an SDK that hides the transport error inside its own exception
    def sdk_call() -> str:
        try:
            raise TimeoutError("read timed out")
        except TimeoutError:
            raise RuntimeError("request failed") from None

    # When / Then (`from None` hides the cause from tracebacks, not from the chain)
    with pytest.raises(ProviderTimeout):
        a_guard().call(sdk_call)


def test_a_refused_connection_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable):
        a_guard().call(Provider(ConnectionRefusedError()))


def test_an_unrecognised_error_propagates_unchanged_as_a_bug() -> None:
    with pytest.raises(KeyError):
        a_guard().call(Provider(KeyError("id")), classify=classify_vendor)


def test_fail_max_unavailable_calls_open_the_circuit_and_later_calls_skip_the_provider() -> None:
    # Given a provider that keeps failing
    guard = a_guard(fail_max=2)
    provider = Provider(*[VendorError(500)] * 5)

    # When it fails fail_max times, each caller sees the real failure
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as raised:
            guard.call(provider, classify=classify_vendor)
        assert not isinstance(raised.value, ProviderCircuitOpen)

    # Then the next call is refused without reaching the provider
    with pytest.raises(ProviderCircuitOpen) as refused:
        guard.call(provider, classify=classify_vendor)
    assert provider.calls == 2
    assert refused.value.retryable
    assert guard.breaker.current_state == "open"


def test_rejections_and_bugs_do_not_open_the_circuit() -> None:
    # Given
    guard = a_guard(fail_max=2)
    provider = Provider(VendorError(422), VendorError(400), KeyError("bug"), VendorError(404))

    # When
    for expected in (ProviderRejected, ProviderRejected, KeyError, ProviderRejected):
        with pytest.raises(expected):
            guard.call(provider, classify=classify_vendor)

    # Then
    assert guard.breaker.current_state == "closed"
    assert guard.call(provider) == "ok"


def test_a_success_resets_the_failure_count() -> None:
    guard = a_guard(fail_max=2)
    provider = Provider(VendorError(500), "ok", VendorError(500), "ok")

    for _ in range(4):
        with contextlib.suppress(ProviderUnavailable):
            guard.call(provider, classify=classify_vendor)

    assert guard.breaker.current_state == "closed"


def test_guarded_call_is_the_one_off_form_of_a_guard() -> None:
    breaker = make_breaker("vendor", fail_max=1)

    with pytest.raises(ProviderUnavailable):
        guarded_call(breaker, Provider(VendorError(502)), provider="vendor", classify=classify_vendor)
    with pytest.raises(ProviderCircuitOpen):
        guarded_call(breaker, Provider(), provider="vendor")


def test_a_guard_needs_a_positive_timeout() -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        Guard(make_breaker("vendor"), provider="vendor", timeout=0)


# -- the error vocabulary ---------------------------------------------------------------


@given(st.integers(min_value=500, max_value=599))
def test_every_5xx_is_unavailable(status: int) -> None:
    assert isinstance(error_for_status("vendor", status), ProviderUnavailable)


@given(st.integers(min_value=400, max_value=499).filter(lambda s: s not in {408, 425, 429}))
def test_every_other_4xx_is_rejected(status: int) -> None:
    error = error_for_status("vendor", status)
    assert isinstance(error, ProviderRejected)
    assert not error.retryable


@pytest.mark.parametrize("status", [408, 425, 429])
def test_4xx_that_mean_not_now_are_unavailable(status: int) -> None:
    assert error_for_status("vendor", status).retryable


def test_an_error_message_carries_status_and_code_but_not_the_provider_detail() -> None:
    error = error_for_status("vendor", 422, code="validation_error", detail="Invalid `to`: ada@example.com")

    assert str(error) == "vendor: request rejected (422 validation_error)"
    assert error.detail == "Invalid `to`: ada@example.com"


# -- simulated faults (what local adapters and fakes act out) ---------------------------


def test_a_simulated_slow_provider_past_the_timeout_waits_only_the_timeout() -> None:
    slept: list[float] = []

    with pytest.raises(ProviderTimeout):
        SimulatedFault(delay_seconds=5).act_out(provider="vendor", timeout=0.3, sleep=slept.append)

    assert slept == [0.3]


def test_a_simulated_slow_provider_within_the_timeout_succeeds_late() -> None:
    slept: list[float] = []

    SimulatedFault(delay_seconds=0.1).act_out(provider="vendor", timeout=0.3, sleep=slept.append)

    assert slept == [0.1]


def test_a_simulated_status_fails_like_the_provider_would() -> None:
    with pytest.raises(ProviderRejected) as raised:
        SimulatedFault(status=422).act_out(provider="vendor", timeout=1)

    assert raised.value.status == 422


# -- cold start ---------------------------------------------------------------------------


def test_importing_the_ports_and_adapters_loads_no_vendor_sdk_and_no_aws_sdk() -> None:
    # Given a fresh interpreter (this one has long since imported everything)
    probe = (
        "import sys, ninefold_core.ports, functions.notifications.adapters; "
        "print(sorted(m for m in ('resend', 'requests', 'boto3', 'botocore') if m in sys.modules))"
    )

    # When
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    # Then
    assert result.stdout.strip() == "[]"
