"""What SystemStack gives every system, checked on identity and safety."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from stacks.constants import (
    DEFAULT_MEMORY_MB,
    POWERTOOLS_METRICS_NAMESPACE,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
)
from tests.infra.conftest import IDENTITY_STACK, SAFETY_STACK, Synthesized, functions_by_handler, only

pytestmark = pytest.mark.infra

SYSTEM_STACKS = {"identity": IDENTITY_STACK, "safety": SAFETY_STACK}


@pytest.fixture(params=sorted(SYSTEM_STACKS))
def system(request: pytest.FixtureRequest, synthesized: Synthesized) -> tuple[str, Template]:
    return request.param, synthesized.template(SYSTEM_STACKS[request.param])


def test_table_is_a_global_table_with_pk_sk_ttl_pitr_and_on_demand(system: tuple[str, Template]) -> None:
    _, template = system
    table = only(template.find_resources("AWS::DynamoDB::GlobalTable"))
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"},
    ]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TABLE_TTL_ATTRIBUTE, "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is False  # dev; prod is checked in test_app
    assert "TableName" not in props, "CDK names tables"
    # Streams only where a system relays an outbox (ADR 0006).
    has_relay = "ninefold_core.events.relay.handler" in functions_by_handler(template)
    assert ("StreamSpecification" in props) == has_relay


def test_functions_are_python311_arm64_traced_with_their_own_role_and_logs(system: tuple[str, Template]) -> None:
    name, template = system
    functions = functions_by_handler(template)
    assert functions
    roles = set()
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    for handler, function in functions.items():
        props = function["Properties"]
        # A system's own handlers, or the core layer's outbox relay and job-commands consumer.
        assert handler.startswith(f"functions.{name}.handlers.") or handler in (
            "ninefold_core.events.relay.handler",
            "ninefold_core.jobs.commands.handler",
        )
        assert handler.endswith(".handler")
        assert props["Runtime"] == "python3.11"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert len(props["Layers"]) == 2
        assert props["LoggingConfig"]["LogGroup"]["Ref"] in log_groups
        roles.add(props["Role"]["Fn::GetAtt"][0])
    assert len(roles) == len(functions), "each function has its own role"


def test_roles_carry_no_managed_policies(system: tuple[str, Template]) -> None:
    _, template = system
    for logical, role in template.find_resources("AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], f"{logical} uses a managed policy"


def test_every_function_gets_the_platform_environment(system: tuple[str, Template]) -> None:
    name, template = system
    table = next(iter(template.find_resources("AWS::DynamoDB::GlobalTable")))
    for function in functions_by_handler(template).values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["STAGE"] == "dev"
        assert env["SYSTEM"] == name
        assert env["POWERTOOLS_SERVICE_NAME"] == name
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == POWERTOOLS_METRICS_NAMESPACE
        assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
        assert env["TABLE_NAME"] == {"Ref": table}
        assert "Fn::ImportValue" in env["EVENT_BUS_NAME"], "the bus comes from the foundation"
        # The default, or more where a function says why (identity's API hashes passwords).
        assert function["Properties"].get("MemorySize", DEFAULT_MEMORY_MB) >= DEFAULT_MEMORY_MB


def test_layers_are_identical_in_every_system_so_they_are_built_once(synthesized: Synthesized) -> None:
    def layer_keys(stack: str) -> set[str]:
        return {
            layer["Properties"]["Content"]["S3Key"]
            for layer in synthesized.resources(stack, "AWS::Lambda::LayerVersion").values()
        }

    assert len(layer_keys(IDENTITY_STACK)) == 2
    assert layer_keys(IDENTITY_STACK) == layer_keys(SAFETY_STACK)


def test_routes_are_authorized_and_served_by_one_integration_per_function(system: tuple[str, Template]) -> None:
    _, template = system
    integrations = template.find_resources("AWS::ApiGatewayV2::Integration")
    api_functions = {k for k, f in functions_by_handler(template).items() if k.endswith(".api.handler")}
    assert len(integrations) == len(api_functions) == 1
    assert only(integrations)["Properties"]["PayloadFormatVersion"] == "2.0"
    for route in template.find_resources("AWS::ApiGatewayV2::Route").values():
        props: dict[str, Any] = route["Properties"]
        if props["AuthorizationType"] == "NONE":
            # Public only with a reason on record (SystemStack.routes(public_reason=...)).
            assert "AwsSolutions-APIG4" in str(route.get("Metadata")), props["RouteKey"]
        else:
            assert props["AuthorizationType"] == "CUSTOM", props["RouteKey"]
            assert props["AuthorizerId"]
        assert props["RouteKey"].split(" ", 1)[1].startswith("/api/v1/")
        assert "Fn::ImportValue" in props["ApiId"], "routes live in the system stack, on the foundation's API"


def test_api_gateway_may_invoke_each_route_path_only(system: tuple[str, Template]) -> None:
    _, template = system
    routes = [
        r["Properties"]["RouteKey"].split(" ", 1)[1]
        for r in template.find_resources("AWS::ApiGatewayV2::Route").values()
    ]
    source_arns = [
        p["Properties"]["SourceArn"]["Fn::Join"][1][-1]
        for p in template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        and "/authorizers/" not in str(p["Properties"]["SourceArn"])
    ]
    assert sorted(source_arns) == sorted(f"/*/*{path}" for path in routes)
