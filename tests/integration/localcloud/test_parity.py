"""Parity with the REAL templates: everything `cdk synth` defines is listed and served locally.

Runs `python -m localcloud serve` on `cdk.out/` in a subprocess (its own moto, so it
never collides with the fixture cloud of the other tests) and reads the templates
directly to know what must be there.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[3]
CDK_OUT = ROOT / "cdk.out"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (CDK_OUT / "manifest.json").is_file(),
        reason="cdk.out/ is missing: run `make synth` first (this test checks the real synthesized templates)",
    ),
]

LISTED = {
    "AWS::ApiGatewayV2::Route": "routes",
    "AWS::Lambda::Url": "function_urls",
    "AWS::Events::Rule": "rules",
    "AWS::Lambda::EventSourceMapping": "event_source_mappings",
    "AWS::Scheduler::Schedule": "schedules",
    "AWS::StepFunctions::StateMachine": "state_machines",
    "AWS::SQS::Queue": "queues",
    "AWS::DynamoDB::Table": "tables",
    "AWS::DynamoDB::GlobalTable": "tables",
    "AWS::Lambda::Function": "functions",
}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def template_resources() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(stack, logical id, type, definition) of every resource in the real templates."""
    manifest = json.loads((CDK_OUT / "manifest.json").read_text())
    found = []
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties") or {}
        stack = properties.get("stackName") or artifact_id
        template = json.loads((CDK_OUT / properties["templateFile"]).read_text())
        for logical_id, definition in (template.get("Resources") or {}).items():
            found.append((stack, logical_id, definition["Type"], definition))
    return found


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localcloud",
            "serve",
            "--cdk-out",
            str(CDK_OUT),
            "--port",
            "0",
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    output: list[str] = []
    deadline = time.monotonic() + 60
    url = moto = None
    while url is None and time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        output.append(line)
        match = re.search(r"local cloud at (http://\S+) \(moto at (http://\S+)\)", line)
        if match:
            url, moto = match.group(1), match.group(2)
    if url is None:
        process.kill()
        pytest.fail("the local cloud did not start:\n" + "".join(output))
    try:
        with _OPENER.open(f"{url}/_local/endpoints", timeout=30) as response:
            endpoints = json.loads(response.read())
        yield {"url": url, "moto": moto, "endpoints": endpoints, "output": output}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def request(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with _OPENER.open(urllib.request.Request(url, method=method), timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def moto_client(served: dict[str, Any], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=served["moto"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.parametrize("kind", sorted(set(LISTED.values())))
def test_every_template_resource_is_listed(served: dict[str, Any], kind: str) -> None:
    expected = {(stack, lid) for stack, lid, rtype, _ in template_resources() if LISTED.get(rtype) == kind}
    listed = {(entry["stack"], entry["logical_id"]) for entry in served["endpoints"][kind]}
    assert expected <= listed, f"missing from /_local/endpoints {kind}: {sorted(expected - listed)}"


def test_nothing_failed_to_provision(served: dict[str, Any]) -> None:
    failed = [n for n in served["endpoints"]["not_emulated"] if n["status"] == "failed"]
    assert failed == []


def concrete(path: str) -> str:
    path = re.sub(r"\{[^}/]+\+\}", "x/y", path)
    return re.sub(r"\{[^}/]+\}", "x", path)


def test_every_route_is_served_by_its_function(served: dict[str, Any]) -> None:
    answers = {}
    for route in served["endpoints"]["routes"]:
        method = "GET" if route["method"] == "ANY" else route["method"]
        path = concrete(route["path"]) if route["path"] else "/_parity/unmatched-default-route"
        status, body = request(served["url"] + path, method)
        answers[route["route_key"]] = status
        assert (status, body) != (404, b'{"message": "Not Found"}'), f"{route['route_key']} is not served"
        assert route["function"] is not None, f"{route['route_key']} has no function integration"
    print("route answers without credentials:", answers)


def test_every_function_url_is_served(served: dict[str, Any]) -> None:
    for url in served["endpoints"]["function_urls"]:
        status, body = request(url["url"])
        assert (status, body) != (404, b'{"message": "Not Found"}')


def test_queues_rules_schedules_and_state_machines_exist_in_moto(served: dict[str, Any]) -> None:
    endpoints = served["endpoints"]
    sqs, events = moto_client(served, "sqs"), moto_client(served, "events")
    for queue_entry in endpoints["queues"]:
        assert sqs.get_queue_url(QueueName=queue_entry["name"])["QueueUrl"].endswith(queue_entry["name"])
    for rule in endpoints["rules"]:
        described = events.describe_rule(Name=rule["name"], EventBusName=rule["bus"])
        assert described["Arn"] == rule["arn"]
        targets = events.list_targets_by_rule(Rule=rule["name"], EventBusName=rule["bus"])["Targets"]
        assert {t["Arn"] for t in targets} == {t["arn"] for t in rule["targets"]}
    sfn = moto_client(served, "stepfunctions")
    for machine in endpoints["state_machines"]:
        assert sfn.describe_state_machine(stateMachineArn=machine["arn"])["name"] == machine["name"]
    scheduler = moto_client(served, "scheduler")
    for schedule in endpoints["schedules"]:
        assert scheduler.get_schedule(Name=schedule["name"], GroupName=schedule["group"])["Arn"] == schedule["arn"]
    dynamodb = moto_client(served, "dynamodb")
    for table in endpoints["tables"]:
        assert dynamodb.describe_table(TableName=table["name"])["Table"]["TableStatus"] == "ACTIVE"


def test_event_source_mappings_point_at_provisioned_sources(served: dict[str, Any]) -> None:
    for mapping in served["endpoints"]["event_source_mappings"]:
        assert mapping["source"] is not None, (
            f"{mapping['logical_id']}: source {mapping['source_arn']} not in the templates"
        )
        assert mapping["function"], mapping


def test_every_repository_handler_points_at_an_existing_module(served: dict[str, Any]) -> None:
    """Handlers are imported lazily, so a typo in a CDK handler string would only show on the
    first request; check the module files exist (CDK's own functions live in assets)."""
    for function in served["endpoints"]["functions"]:
        module = function["handler"].rpartition(".")[0]
        top = module.split(".")[0]
        if not (ROOT / top).is_dir() and not (ROOT / "layers/core/python" / top).is_dir():
            continue  # e.g. index.handler of CDK's bucket deployment
        relative = Path(*module.split("."))
        candidates = [
            ROOT / f"{relative}.py",
            ROOT / relative / "__init__.py",
            ROOT / "layers/core/python" / f"{relative}.py",
        ]
        assert any(c.is_file() for c in candidates), f"{function['logical_id']}: no module for {function['handler']}"


def test_the_local_cloud_starts_quickly(served: dict[str, Any]) -> None:
    status, body = request(served["url"] + "/_local/health")
    assert status == 200
    assert json.loads(body)["startup_seconds"] < 5.0
