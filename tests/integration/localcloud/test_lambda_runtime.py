"""In-process Lambdas as the rest of the cloud sees them: env isolation, Invoke API, faults, timeouts."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from localcloud import LocalCloud

pytestmark = pytest.mark.integration


def test_concurrent_functions_see_only_their_own_environment(cloud: LocalCloud) -> None:
    results: dict[str, Any] = {}

    def call(target: str) -> None:
        results[target] = cloud.invoke(target, {"sleep": 0.2})

    threads = [threading.Thread(target=call, args=(t,)) for t in ("Fixture-App/EnvOneFn", "fixture-env-two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    one, two = results["Fixture-App/EnvOneFn"], results["fixture-env-two"]
    assert (one["shared"], one["only_other"], one["function"]) == ("one", None, "fixture-env-one")
    assert (two["shared"], two["only_other"], two["memory"]) == ("two", "Fixture-App-us-east-1", "512")
    assert one["selected"] == "b"
    assert one["sub"] == "fixture-bus-x"
    assert one["endpoint"] == cloud.moto_url
    assert one["local"] == "1"
    assert one["trace_disabled"] == "true"
    assert (one["extra"], two["extra"]) == (None, "from-the-test")  # LocalCloud(env=...) overrides


def test_the_lambda_invoke_api_runs_the_in_process_handler(cloud: LocalCloud) -> None:
    lambda_client = cloud.client("lambda")
    ok = lambda_client.invoke(FunctionName="fixture-env-one", Payload=json.dumps({}))
    assert json.loads(ok["Payload"].read())["shared"] == "one"
    cloud.faults.inject("fixture-env-one", exc=KeyError("missing"), times=1)
    failed = lambda_client.invoke(FunctionName="fixture-env-one", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "KeyError"
    asynchronous = lambda_client.invoke(FunctionName="fixture-env-one", InvocationType="Event", Payload=b"{}")
    assert asynchronous["StatusCode"] == 202


def test_errors_come_back_aws_shaped(cloud: LocalCloud) -> None:
    timed_out = cloud.invoke("Fixture-App/SlowFn", {"sleep": 1.2})
    assert timed_out["errorType"] == "Sandbox.Timedout"
    assert cloud.invoke("Fixture-App/BadReturnFn", {})["errorType"] == "Runtime.MarshalError"
    assert cloud.invoke("Fixture-App/MissingFn", {})["errorType"] == "Runtime.ImportModuleError"


def test_resources_are_found_by_construct_path(cloud: LocalCloud) -> None:
    queue = cloud.resource("Fixture-Core/WorkQueue")
    assert (queue.logical_id, queue.type, queue.cdk_path) == (
        "WorkQueue0D8A2B3C",
        "AWS::SQS::Queue",
        "Fixture-Core/WorkQueue/Resource",
    )
    assert queue.name == "Fixture-Core-WorkQueue0D8A2B3C"
    assert queue.url.endswith("/123456789012/" + queue.name)
    assert cloud.resource("fixture-table").type == "AWS::DynamoDB::GlobalTable"
    with pytest.raises(KeyError):
        cloud.resource("Fixture-App/Nothing")


def test_endpoints_list_everything_the_templates_define(cloud: LocalCloud) -> None:
    endpoints = cloud.endpoints()
    assert {r["route_key"] for r in endpoints["routes"]} >= {"GET /api/v1/items/{item_id}", "$default"}
    authorized = next(r for r in endpoints["routes"] if r["route_key"] == "GET /api/v1/items/{item_id}")
    assert authorized["authorizer"]["name"] == "TenantAuthorizer"
    assert authorized["function"]["logical_id"] == "ApiFnE1A2B3C4"
    work = next(q for q in endpoints["queues"] if q["logical_id"] == "WorkQueue0D8A2B3C")
    assert work["dlq"]["logical_id"] == "WorkDlq5C8F1A7B"
    assert work["max_receive_count"] == 3
    rule = next(r for r in endpoints["rules"] if r["logical_id"] == "OrderPlacedRule6D7E8F9A")
    assert [t["kind"] for t in rule["targets"]] == ["lambda", "sqs", "states"]
    assert rule["bus"] == "fixture-bus"
    assert {m["kind"] for m in endpoints["event_source_mappings"]} == {"sqs", "dynamodb"}
    assert endpoints["schedules"][0]["timezone"] == "Europe/Berlin"
    assert endpoints["state_machines"][0]["name"] == "fixture-order-flow"
    assert endpoints["tables"][0]["ttl_attribute"] == "expires_at"
    assert endpoints["function_urls"][0]["function_logical_id"] == "UrlFn9A8B7C6D"
    not_emulated = {(n["type"], n["status"]) for n in endpoints["not_emulated"]}
    assert ("AWS::KMS::Key", "not_emulated") in not_emulated
    assert ("Custom::LogRetention", "not_emulated") in not_emulated
    assert all(n["status"] != "failed" for n in endpoints["not_emulated"])
