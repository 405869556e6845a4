"""Identity figures: the authorizer's in-process cost per request and argon2id verify time.

The authorizer runs against moto's in-process DynamoDB, so its figure is an upper bound of
the function's own work plus an emulated (not networked) table: three consistent reads per
request (session, user, membership), and a write at most once a minute per session.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "STAGE": "bench",
    "SYSTEM": "identity",
    "POWERTOOLS_SERVICE_NAME": "identity",
    "EVENT_BUS_NAME": "bench",
    "TABLE_NAME": "bench-identity",
    "APP_URL": "http://127.0.0.1:8000",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


class _Context:
    function_name = "bench-authorizer"
    aws_request_id = "bench"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 5000


def _table(client: Any, name: str) -> None:
    string = [{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")]
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=string,
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


def bench_authorizer(requests: int = 300) -> dict[str, Any]:
    os.environ.update(ENV)
    from moto import mock_aws

    from functions.identity.handlers import authorizer
    from functions.identity.seed import seed_user
    from ninefold_core import aws

    aws.reset_clients()
    with mock_aws():
        client = aws.client("dynamodb")
        _table(client, ENV["TABLE_NAME"])
        user = seed_user(ENV["TABLE_NAME"], workspace_name="Bench", user_id="usr_bench", client=client)
        event = {
            "version": "2.0",
            "type": "REQUEST",
            "headers": {"authorization": f"Bearer {user.token}"},
            "requestContext": {"http": {"method": "GET"}},
        }
        context = _Context()
        assert authorizer.handler(event, context)["isAuthorized"] is True
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            authorizer.handler(event, context)
            samples.append((time.perf_counter() - started) * 1000)
        # The same credential with the opt-in per-container cache on (AUTHORIZER_CACHE_SECONDS).
        os.environ["AUTHORIZER_CACHE_SECONDS"] = "60"
        cached_samples = []
        try:
            for _ in range(requests):
                started = time.perf_counter()
                authorizer.handler(event, context)
                cached_samples.append((time.perf_counter() - started) * 1000)
        finally:
            del os.environ["AUTHORIZER_CACHE_SECONDS"]
            authorizer.CACHE.clear()
        denied = {"version": "2.0", "type": "REQUEST", "headers": {}, "requestContext": {}}
        deny_samples = []
        for _ in range(requests):
            started = time.perf_counter()
            authorizer.handler(denied, context)
            deny_samples.append((time.perf_counter() - started) * 1000)
    aws.reset_clients()
    return {
        "requests": requests,
        "allow_median_ms": round(statistics.median(samples), 2),
        "allow_p95_ms": round(sorted(samples)[int(0.95 * len(samples))], 2),
        "deny_without_credential_median_ms": round(statistics.median(deny_samples), 3),
        "allow_cached_median_ms": round(statistics.median(cached_samples), 2),
        "note": "in-process, DynamoDB emulated by moto in the same process (an upper bound of the function's work)",
    }


def bench_argon2(runs: int = 20) -> dict[str, Any]:
    from functions.identity.logic import passwords

    stored = passwords.hash_password("correct horse battery staple")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        assert passwords.verify_password(stored, "correct horse battery staple")
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "runs": runs,
        "verify_median_ms": round(statistics.median(samples), 1),
        "parameters": f"argon2id m={passwords.MEMORY_COST_KIB} KiB t={passwords.TIME_COST} p={passwords.PARALLELISM}",
    }
