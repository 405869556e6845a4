"""Intrinsic functions resolve as CloudFormation resolves them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from localcloud.intrinsics import NO_VALUE, IntrinsicError, Resolver, references

pytestmark = pytest.mark.unit


class FakeResources:
    def __init__(self) -> None:
        self.items = {
            "Queue": {"ref": "https://sqs/123/q", "Arn": "arn:aws:sqs:us-east-1:123456789012:q", "QueueName": "q"},
            "Table": {"ref": "tbl", "Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/tbl", "StreamArn": "s"},
        }

    def has(self, logical_id: str) -> bool:
        return logical_id in self.items

    def ref(self, logical_id: str) -> Any:
        return self.items[logical_id]["ref"]

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self.items[logical_id][attribute]


TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "BootstrapVersion": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/hnb659fds/version",
        },
        "Stage": {"Type": "String", "Default": "dev"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "NoDefault": {"Type": "String"},
    },
    "Conditions": {
        "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
        "IsProd": {"Fn::Not": [{"Condition": "IsDev"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["x", "x"]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
    },
    "Mappings": {"Sizes": {"dev": {"memory": 256}}},
}


@pytest.fixture
def resolver() -> Resolver:
    exports = {"Core:TableName": "tbl-from-core"}
    return Resolver("Stack", TEMPLATE, FakeResources(), exports.__getitem__)


def test_ref_resolves_parameters_pseudo_parameters_and_resources(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "Stage"}) == "dev"
    assert resolver.resolve({"Ref": "BootstrapVersion"}) == "/cdk-bootstrap/hnb659fds/version"
    assert resolver.resolve({"Ref": "Zones"}) == ["a", "b"]
    assert resolver.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolver.resolve({"Ref": "AWS::StackName"}) == "Stack"
    assert resolver.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolver.resolve({"Ref": "Queue"}) == "https://sqs/123/q"


def test_ref_to_unknown_name_is_an_error(resolver: Resolver) -> None:
    with pytest.raises(IntrinsicError):
        resolver.resolve({"Ref": "Nope"})
    with pytest.raises(IntrinsicError):
        resolver.resolve({"Ref": "NoDefault"})


def test_parameter_overrides_win_over_defaults() -> None:
    resolver = Resolver("S", TEMPLATE, FakeResources(), parameters={"Stage": "prod"})
    assert resolver.resolve({"Ref": "Stage"}) == "prod"
    assert resolver.condition("IsProd") is True


def test_get_att_in_list_and_string_forms(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}).endswith(":q")
    assert resolver.resolve({"Fn::GetAtt": "Table.StreamArn"}) == "s"


def test_join_select_split(resolver: Resolver) -> None:
    joined = resolver.resolve({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Table"}]]})
    assert joined == "arn:aws:s3:::tbl"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    assert resolver.resolve({"Fn::Join": ["-", {"Fn::Split": ["/", "x/y"]}]}) == "x-y"
    with pytest.raises(IntrinsicError):
        resolver.resolve({"Fn::Select": [5, ["a"]]})


def test_sub_string_form_with_refs_attributes_and_escapes(resolver: Resolver) -> None:
    text = "${AWS::StackName}-${Table}-${Queue.QueueName}-${!Literal}"
    assert resolver.resolve({"Fn::Sub": text}) == "Stack-tbl-q-${Literal}"


def test_sub_list_form_uses_its_variables_first(resolver: Resolver) -> None:
    value = resolver.resolve({"Fn::Sub": ["${Table}:${Name}", {"Table": "override", "Name": {"Ref": "Stage"}}]})
    assert value == "override:dev"


def test_import_value_reads_other_stacks_exports(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::ImportValue": "Core:TableName"}) == "tbl-from-core"


def test_conditions_if_and_no_value(resolver: Resolver) -> None:
    assert resolver.condition("IsDev") is True
    assert resolver.condition("Both") is True
    assert resolver.condition("Either") is True
    value = resolver.resolve(
        {"A": {"Fn::If": ["IsProd", "yes", {"Ref": "AWS::NoValue"}]}, "B": {"Fn::If": ["IsDev", "dev", "no"]}}
    )
    assert value == {"B": "dev"}
    assert resolver.resolve([{"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, 2]) == [2]
    assert resolver.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_find_in_map_base64_and_to_json_string(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "memory"]}) == 256
    assert base64.b64decode(resolver.resolve({"Fn::Base64": "hi"})) == b"hi"
    assert resolver.resolve({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}) == '{"a":"dev"}'
    assert resolver.resolve({"Fn::GetAZs": ""})[0] == "us-east-1a"


def test_plain_values_and_nested_structures_pass_through(resolver: Resolver) -> None:
    value = {"Env": {"Variables": {"T": {"Ref": "Table"}, "N": 3, "B": True}}, "L": [{"Ref": "Stage"}]}
    assert resolver.resolve(value) == {"Env": {"Variables": {"T": "tbl", "N": 3, "B": True}}, "L": ["dev"]}


def test_references_finds_dependencies_for_ordering() -> None:
    found = references(
        {
            "A": {"Ref": "Queue"},
            "B": {"Fn::GetAtt": ["Table", "Arn"]},
            "C": {"Fn::Sub": "${Bucket.Arn}/${AWS::Region}/${!Skip}"},
            "D": {"Fn::Sub": ["${Local}-${Topic}", {"Local": {"Ref": "Key"}}]},
            "E": {"Fn::GetAtt": "Fn.Arn"},
        }
    )
    assert found == {"Queue", "Table", "Bucket", "Topic", "Key", "Fn"}
