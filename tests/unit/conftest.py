"""Unit tier: no network. moto runs in-process (no sockets) for AWS fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_xray_sdk.core  # noqa: F401  (opens its UDP emitter socket at import; no traffic)
import pytest
import urllib3.util.connection  # noqa: F401  (probes IPv6 with a socket at import: do it before sockets are blocked)
from pytest_socket import disable_socket, enable_socket

from ninefold_core import aws

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "STAGE": "test",
    "EVENT_BUS_NAME": "ninefold-test",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # botocore 1.44 sends DynamoDB Streams to account-based hosts that moto 5.2.5 does not route.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def pytest_runtest_setup(item: pytest.Item) -> None:
    disable_socket(allow_unix_socket=True)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    enable_socket()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    from moto import mock_aws

    aws.reset_clients()
    with mock_aws():
        yield
    aws.reset_clients()


def create_table(name: str, *, gsis: tuple[str, ...] = ("gsi1",), stream: bool = False) -> None:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    indexes: list[dict[str, Any]] = []
    for gsi in gsis:
        attributes += [
            {"AttributeName": f"{gsi}pk", "AttributeType": "S"},
            {"AttributeName": f"{gsi}sk", "AttributeType": "S"},
        ]
        indexes.append(
            {
                "IndexName": gsi,
                "KeySchema": [
                    {"AttributeName": f"{gsi}pk", "KeyType": "HASH"},
                    {"AttributeName": f"{gsi}sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": attributes,
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    aws.client("dynamodb").create_table(**request)


@pytest.fixture
def table(mocked_aws: None) -> str:
    create_table("ninefold-test-table", stream=True)
    return "ninefold-test-table"


class FakeContext:
    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb = 256
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeContext:
    return FakeContext()
