"""Local identities of template resources, and finding them by construct path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localcloud.inventory import Inventory, StackResources, Urls
from localcloud.template import CloudAssembly

pytestmark = pytest.mark.unit

URLS = Urls(moto="http://127.0.0.1:5000", front_door="http://127.0.0.1:8000")


def res(kind: str, path: str, props: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"Type": kind, "Properties": props or {}, "Metadata": {"aws:cdk:path": path}}


TEMPLATE = {
    "Resources": {
        "Queue1A": res("AWS::SQS::Queue", "S/Queue/Resource"),
        "QueuePolicy": res("AWS::SQS::QueuePolicy", "S/Queue/Policy/Resource"),
        "Fifo2B": res("AWS::SQS::Queue", "S/Fifo/Resource", {"FifoQueue": True}),
        "Named": res("AWS::SQS::Queue", "S/Named/Resource", {"QueueName": {"Fn::Sub": "${AWS::StackName}-named"}}),
        "Bucket_3C": res("AWS::S3::Bucket", "S/Bucket/Resource"),
        "Bus": res("AWS::Events::EventBus", "S/Bus/Resource", {"Name": "bus"}),
        "Rule": res("AWS::Events::Rule", "S/Rule/Resource", {"EventBusName": {"Ref": "Bus"}}),
        "DefaultRule": res("AWS::Events::Rule", "S/DefaultRule/Resource"),
        "Fn": res("AWS::Lambda::Function", "S/Fn/Resource", {"FunctionName": "fn-name"}),
        "FnUrl": res(
            "AWS::Lambda::Url", "S/Fn/FunctionUrl/Resource", {"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}}
        ),
        "Machine": res("AWS::StepFunctions::StateMachine", "S/Machine/Resource"),
        "Table": res("AWS::DynamoDB::GlobalTable", "S/Table/Resource", {"TableName": "t"}),
        "Custom": res("Custom::Thing", "S/Custom/Default"),
        "Api": res("AWS::ApiGatewayV2::Api", "S/Api/Resource"),
        "VeryLongLogicalIdThatGoesOnAndOnAndOnForeverAndEverAndEvenLongerStill": res(
            "AWS::Lambda::Function", "S/Long/Resource"
        ),
    }
}


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text(
        json.dumps({"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "S.json"}}}})
    )
    (out / "S.json").write_text(json.dumps(TEMPLATE))
    inventory = Inventory(CloudAssembly.load(out))
    inventory.contexts["S"] = StackResources(inventory.assembly.stack("S"), inventory, URLS)
    for resource in inventory.resources:
        inventory.contexts["S"].resource(resource.logical_id)
    return inventory


def test_generated_names_are_stack_dash_logical_id(inventory: Inventory) -> None:
    queue = inventory.get("S", "Queue1A")
    assert queue.name == "S-Queue1A"
    assert queue.ref == "http://127.0.0.1:5000/123456789012/S-Queue1A"
    assert queue.arn == "arn:aws:sqs:us-east-1:123456789012:S-Queue1A"
    assert queue.attributes["QueueName"] == "S-Queue1A"


def test_fifo_queues_get_the_fifo_suffix_and_template_names_win(inventory: Inventory) -> None:
    assert inventory.get("S", "Fifo2B").name == "S-Fifo2B.fifo"
    assert inventory.get("S", "Named").name == "S-named"


def test_bucket_names_are_lowercase_and_valid(inventory: Inventory) -> None:
    bucket = inventory.get("S", "Bucket_3C")
    assert bucket.name == "s-bucket-3c"
    assert bucket.attributes["RegionalDomainName"] == "s-bucket-3c.s3.us-east-1.amazonaws.com"


def test_rule_arns_and_refs_depend_on_the_bus(inventory: Inventory) -> None:
    rule = inventory.get("S", "Rule")
    assert rule.arn == "arn:aws:events:us-east-1:123456789012:rule/bus/S-Rule"
    assert rule.ref == "bus|S-Rule"
    default = inventory.get("S", "DefaultRule")
    assert default.arn == "arn:aws:events:us-east-1:123456789012:rule/S-DefaultRule"
    assert default.ref == "S-DefaultRule"


def test_state_machines_ref_is_the_arn_and_functions_ref_is_the_name(inventory: Inventory) -> None:
    assert inventory.get("S", "Machine").ref.startswith("arn:aws:states:us-east-1:123456789012:stateMachine:")
    assert inventory.get("S", "Fn").ref == "fn-name"


def test_function_urls_point_at_the_front_door(inventory: Inventory) -> None:
    url = inventory.get("S", "FnUrl")
    assert url.attributes["FunctionUrl"] == "http://127.0.0.1:8000/_lambda/Fn/"
    assert inventory.get("S", "Api").attributes["ApiEndpoint"] == "http://127.0.0.1:8000"


def test_long_names_are_truncated_with_a_stable_hash(inventory: Inventory) -> None:
    name = inventory.get("S", "VeryLongLogicalIdThatGoesOnAndOnAndOnForeverAndEverAndEvenLongerStill").name
    assert len(name) <= 64
    assert name == inventory.get("S", "VeryLongLogicalIdThatGoesOnAndOnAndOnForeverAndEverAndEvenLongerStill").name


def test_unemulated_types_still_have_refs_and_attributes(inventory: Inventory) -> None:
    context = inventory.contexts["S"]
    assert context.ref("Custom") == "S-Custom"
    assert context.get_att("Custom", "Whatever") == "local-S-Custom-Whatever"
    assert context.get_att("Custom", "Arn").startswith("arn:aws:")
    assert context.get_att("Table", "StreamArn").startswith("arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/")


def test_find_by_construct_path_prefix_prefers_the_constructs_own_resource(inventory: Inventory) -> None:
    assert inventory.find("S/Queue").logical_id == "Queue1A"
    assert inventory.find("S/Queue/Policy").logical_id == "QueuePolicy"
    assert inventory.find("S/Fn").logical_id == "Fn"


def test_find_by_logical_id_name_and_arn(inventory: Inventory) -> None:
    assert inventory.find("Queue1A").name == "S-Queue1A"
    assert inventory.find("S/Fifo2B").name == "S-Fifo2B.fifo"
    assert inventory.find("fn-name").logical_id == "Fn"
    assert inventory.find_function("arn:aws:lambda:us-east-1:123456789012:function:fn-name:live").logical_id == "Fn"
    with pytest.raises(KeyError):
        inventory.find("S/Nothing")
