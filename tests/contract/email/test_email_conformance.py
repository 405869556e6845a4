"""One conformance suite for every adapter of the email port.

Each adapter runs behind a real DynamoDB-backed breaker (moto's server on 127.0.0.1); the
Resend adapter talks to a fake Resend API on 127.0.0.1. A new email adapter earns its place
by joining the `harness` fixture's parameters and passing unchanged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from pydantic import ValidationError

from functions.notifications.adapters.local import LocalEmailSender
from functions.notifications.adapters.memory import MemoryEmailSender
from functions.notifications.adapters.resend import ResendEmailSender
from ninefold_core.ports import (
    EmailMessage,
    EmailSender,
    Guard,
    ProviderCircuitOpen,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    SentEmailLookup,
    SimulatedFault,
    breaker_for,
)
from tests.contract.email.fake_resend import FakeResend, Fault

pytestmark = pytest.mark.contract

TABLE = "ninefold-platform-test"
FAIL_MAX = 3
TIMEOUT_SECONDS = 0.3
SLOW_PROVIDER_SECONDS = 1.5
API_KEY = "re_test_not_a_real_key"


class VerifiableSender(EmailSender, SentEmailLookup):
    """What every adapter under test is: a sender with the read-back hook."""


@dataclass
class Harness:
    sender: VerifiableSender
    inject: Callable[[SimulatedFault], None]
    pending_faults: Callable[[], int]
    delivered_count: Callable[[], int]


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=f"http://{host}:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
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
    server.stop()


def _guard(dynamodb: Any, provider: str) -> Guard:
    # A fresh breaker name per test: state in the shared table never leaks between tests.
    breaker = breaker_for(
        f"email-{provider}-{uuid.uuid4().hex[:8]}",
        TABLE,
        dynamodb,
        fail_max=FAIL_MAX,
        reset_timeout=60,
    )
    return Guard(breaker, provider=provider, timeout=TIMEOUT_SECONDS)


def _fake_fault(fault: SimulatedFault) -> Fault:
    return Fault(status=fault.status, delay_seconds=fault.delay_seconds)


@pytest.fixture(params=["resend", "local", "memory"])
def harness(request: pytest.FixtureRequest, dynamodb: Any, tmp_path: Path) -> Iterator[Harness]:
    kind: str = request.param
    if kind == "resend":
        with FakeResend(api_key=API_KEY) as fake:
            resend_sender = ResendEmailSender(api_key=API_KEY, guard=_guard(dynamodb, "resend"), api_url=fake.url)
            yield Harness(
                sender=resend_sender,  # type: ignore[arg-type]
                inject=lambda f: fake.enqueue(_fake_fault(f)),
                pending_faults=fake.pending_faults,
                delivered_count=lambda: len(fake.emails),
            )
    elif kind == "local":
        local_sender = LocalEmailSender(tmp_path / "mailbox", guard=_guard(dynamodb, "local"))
        yield Harness(
            sender=local_sender,  # type: ignore[arg-type]
            inject=local_sender.mailbox.inject_fault,
            pending_faults=local_sender.mailbox.pending_faults,
            delivered_count=lambda: len(local_sender.mailbox.messages()),
        )
    else:
        memory_sender = MemoryEmailSender(guard=_guard(dynamodb, "memory"))
        yield Harness(
            sender=memory_sender,  # type: ignore[arg-type]
            inject=memory_sender.fail_next,
            pending_faults=lambda: memory_sender.pending_faults,
            delivered_count=lambda: len(memory_sender.messages()),
        )


def a_message(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": ["ada@example.com"],
        "from_": "Ninefold <no-reply@ninefold.example>",
        "subject": "Welcome to Ninefold",
        "html": "<p>Hello Ada</p>",
        "text": "Hello Ada",
        "reply_to": ["support@ninefold.example"],
        "tags": {"category": "welcome"},
    }
    return EmailMessage(**{**fields, **overrides})


# -- the port's message model (what every adapter can rely on) -------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"to": []},
        {"to": [f"user{i}@example.com" for i in range(51)]},
        {"html": None, "text": None},
        {"subject": ""},
        {"tags": {"has space": "x"}},
        {"idempotency_key": "k" * 257},
        {"bcc": ["not-a-field@example.com"]},
    ],
    ids=["no-recipient", "51-recipients", "no-body", "no-subject", "bad-tag", "long-key", "unknown-field"],
)
def test_the_port_refuses_a_message_no_provider_would_accept(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        a_message(**overrides)


def test_a_message_round_trips_through_json_with_a_from_field() -> None:
    message = a_message(idempotency_key="welcome-user/1")

    as_json = message.model_dump_json(by_alias=True)

    assert '"from":' in as_json
    assert EmailMessage.model_validate_json(as_json) == message


def test_a_recipient_matches_whatever_its_case_or_display_name() -> None:
    message = a_message(to=["Ada Lovelace <Ada@Example.com>"])

    assert message.is_addressed_to("ada@example.com")
    assert not message.is_addressed_to("grace@example.com")


# -- delivery ---------------------------------------------------------------------------


def test_a_sent_message_can_be_read_back_through_the_adapter(harness: Harness) -> None:
    # Given
    message = a_message()

    # When
    sent = harness.sender.send(message)

    # Then
    delivered = harness.sender.fetch_sent(sent.provider_message_id)
    assert delivered is not None
    assert delivered.provider_message_id == sent.provider_message_id
    assert delivered.to == message.to
    assert delivered.from_ == message.from_
    assert (delivered.subject, delivered.html, delivered.text) == (
        message.subject,
        message.html,
        message.text,
    )
    assert delivered.reply_to == message.reply_to
    assert harness.delivered_count() == 1


def test_an_unknown_message_id_reads_back_as_nothing(harness: Harness) -> None:
    assert harness.sender.fetch_sent(str(uuid.uuid4())) is None


def test_a_text_only_message_is_delivered_without_html(harness: Harness) -> None:
    sent = harness.sender.send(a_message(html=None, reply_to=[]))

    delivered = harness.sender.fetch_sent(sent.provider_message_id)
    assert delivered is not None
    assert delivered.html is None
    assert delivered.text == "Hello Ada"
    assert delivered.reply_to == []


# -- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_a_provider_5xx_is_unavailable_and_retryable(harness: Harness, status: int) -> None:
    # Given the provider fails the next request
    harness.inject(SimulatedFault(status=status))

    # When
    with pytest.raises(ProviderUnavailable) as raised:
        harness.sender.send(a_message())

    # Then the caller is told to retry, and a retry goes through
    assert raised.value.retryable
    assert raised.value.status == status
    assert harness.sender.send(a_message()).provider_message_id
    assert harness.delivered_count() == 1


def test_a_provider_validation_error_is_rejected_and_not_retryable(harness: Harness) -> None:
    # Given
    harness.inject(SimulatedFault(status=422))

    # When
    with pytest.raises(ProviderRejected) as raised:
        harness.sender.send(a_message())

    # Then
    assert not raised.value.retryable
    assert raised.value.status == 422
    assert harness.delivered_count() == 0


def test_a_rate_limited_send_is_unavailable_not_rejected(harness: Harness) -> None:
    harness.inject(SimulatedFault(status=429))

    with pytest.raises(ProviderUnavailable) as raised:
        harness.sender.send(a_message())

    assert raised.value.status == 429


def test_a_slow_provider_is_unavailable_within_the_timeout(harness: Harness) -> None:
    # Given the provider takes far longer than the adapter's timeout
    harness.inject(SimulatedFault(delay_seconds=SLOW_PROVIDER_SECONDS))

    # When
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as raised:
        harness.sender.send(a_message())
    elapsed = time.monotonic() - started

    # Then the caller hears about it after about the timeout, not the provider's delay
    assert raised.value.retryable
    assert TIMEOUT_SECONDS * 0.9 <= elapsed < TIMEOUT_SECONDS + 0.5


def test_rejections_never_open_the_breaker(harness: Harness) -> None:
    # Given more rejections than the breaker tolerates failures
    for _ in range(FAIL_MAX + 1):
        harness.inject(SimulatedFault(status=422))
        with pytest.raises(ProviderRejected):
            harness.sender.send(a_message())

    # When / Then the provider is still called
    assert harness.sender.send(a_message()).provider_message_id


def test_after_fail_max_failures_the_breaker_is_open_and_the_provider_is_not_called(
    harness: Harness,
) -> None:
    # Given the provider would fail one more time than the breaker tolerates
    for _ in range(FAIL_MAX + 1):
        harness.inject(SimulatedFault(status=503))

    # When fail_max sends fail
    for _ in range(FAIL_MAX):
        with pytest.raises(ProviderUnavailable) as raised:
            harness.sender.send(a_message())
        assert not isinstance(raised.value, ProviderCircuitOpen)

    # Then the next send is refused by the breaker without reaching the provider
    with pytest.raises(ProviderCircuitOpen) as refused:
        harness.sender.send(a_message())
    assert refused.value.retryable
    assert harness.pending_faults() == 1
    assert harness.delivered_count() == 0


# -- idempotency ------------------------------------------------------------------------


def test_the_same_idempotency_key_delivers_once(harness: Harness) -> None:
    # Given
    message = a_message(idempotency_key=f"welcome-user/{uuid.uuid4()}")

    # When the send is retried
    first = harness.sender.send(message)
    second = harness.sender.send(message)

    # Then
    assert first.provider_message_id == second.provider_message_id
    assert harness.delivered_count() == 1


def test_an_idempotency_key_reused_for_other_content_is_rejected(harness: Harness) -> None:
    key = f"welcome-user/{uuid.uuid4()}"
    harness.sender.send(a_message(idempotency_key=key))

    with pytest.raises(ProviderRejected) as raised:
        harness.sender.send(a_message(idempotency_key=key, subject="Something else"))

    assert raised.value.status == 409
    assert harness.delivered_count() == 1


def test_a_retry_after_a_timeout_with_the_same_key_delivers_once(harness: Harness) -> None:
    # Given a send that timed out (the provider may or may not have acted on it)
    message = a_message(idempotency_key=f"welcome-user/{uuid.uuid4()}")
    harness.inject(SimulatedFault(delay_seconds=SLOW_PROVIDER_SECONDS))
    with pytest.raises(ProviderTimeout):
        harness.sender.send(message)

    # When it is retried with the same key
    sent = harness.sender.send(message)

    # Then exactly one message exists
    assert harness.sender.fetch_sent(sent.provider_message_id) is not None
    assert harness.delivered_count() == 1


# -- Resend specifics the generic suite cannot express -----------------------------------


@pytest.fixture
def fake_resend() -> Iterator[FakeResend]:
    with FakeResend(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def resend_sender(fake_resend: FakeResend, dynamodb: Any) -> ResendEmailSender:
    return ResendEmailSender(api_key=API_KEY, guard=_guard(dynamodb, "resend"), api_url=fake_resend.url)


def test_resend_receives_the_idempotency_key_as_a_header(
    resend_sender: ResendEmailSender, fake_resend: FakeResend
) -> None:
    resend_sender.send(a_message(idempotency_key="welcome-user/42"))

    (sent,) = [r for r in fake_resend.requests if r.method == "POST"]
    assert sent.headers["Idempotency-Key"] == "welcome-user/42"
    assert sent.body["tags"] == [{"name": "category", "value": "welcome"}]


def test_resend_without_a_key_sends_no_idempotency_header(
    resend_sender: ResendEmailSender, fake_resend: FakeResend
) -> None:
    resend_sender.send(a_message())

    (sent,) = fake_resend.requests
    assert "Idempotency-Key" not in sent.headers


def test_a_proxy_error_page_from_resend_is_unavailable(
    resend_sender: ResendEmailSender, fake_resend: FakeResend
) -> None:
    fake_resend.enqueue(Fault(status=502, html=True))

    with pytest.raises(ProviderUnavailable) as raised:
        resend_sender.send(a_message())

    assert raised.value.status == 502


def test_a_wrong_resend_api_key_is_rejected_without_revealing_it(fake_resend: FakeResend, dynamodb: Any) -> None:
    wrong_key = "re_wrong_key_value"
    sender = ResendEmailSender(api_key=wrong_key, guard=_guard(dynamodb, "resend"), api_url=fake_resend.url)

    with pytest.raises(ProviderRejected) as raised:
        sender.send(a_message())

    assert raised.value.status == 403
    assert wrong_key not in str(raised.value)
    assert wrong_key not in (raised.value.detail or "")
    assert wrong_key not in repr(sender)


def test_an_unreachable_resend_is_unavailable(dynamodb: Any) -> None:
    with FakeResend(api_key=API_KEY) as fake:
        closed_url = fake.url  # nothing listens there once the block ends
    sender = ResendEmailSender(api_key=API_KEY, guard=_guard(dynamodb, "resend"), api_url=closed_url)

    with pytest.raises(ProviderUnavailable) as raised:
        sender.send(a_message())

    assert not isinstance(raised.value, ProviderCircuitOpen)


def test_the_resend_sdk_globals_are_restored_after_a_send(
    resend_sender: ResendEmailSender,
) -> None:
    import resend

    before = (resend.api_key, resend.api_url, resend.default_http_client)

    resend_sender.send(a_message())

    assert (resend.api_key, resend.api_url, resend.default_http_client) == before
