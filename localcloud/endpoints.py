"""What the local cloud serves, as JSON (`GET /_local/endpoints`, `LocalCloud.endpoints()`)."""

from __future__ import annotations

import json
from typing import Any

from localcloud.inventory import Inventory, Resource
from localcloud.wiring import Wiring

# Internal CDK plumbing that is never interesting to list as "not emulated" one by one.
_QUIET_TYPES = {"AWS::CDK::Metadata"}


def describe(inventory: Inventory, wiring: Wiring, front_url: str, moto_url: str) -> dict[str, Any]:
    functions = {spec.key: spec for spec in wiring.functions}
    return {
        "url": front_url,
        "moto_url": moto_url,
        "stacks": [stack.name for stack in inventory.iter_stacks()],
        "routes": [_route(route, functions, front_url) for route in wiring.routes],
        "function_urls": [
            {**url.summary(), "function_name": functions[url.function].name} for url in wiring.function_urls.values()
        ],
        "functions": [spec.summary() for spec in wiring.functions],
        "queues": [_queue(r, inventory) for r in inventory.of_type("AWS::SQS::Queue")],
        "rules": [_rule(r, inventory) for r in inventory.of_type("AWS::Events::Rule")],
        "event_source_mappings": [
            {**m.summary(), "source": _summary_by_arn(inventory, m.source_arn)} for m in wiring.mappings
        ],
        "schedules": [_schedule(r, inventory) for r in inventory.of_type("AWS::Scheduler::Schedule")],
        "state_machines": [
            {**r.summary(), "type": r.properties.get("StateMachineType", "STANDARD")}
            for r in inventory.of_type("AWS::StepFunctions::StateMachine")
        ],
        "tables": [_table(r) for r in inventory.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")],
        "buckets": [r.summary() for r in inventory.of_type("AWS::S3::Bucket")],
        "topics": [r.summary() for r in inventory.of_type("AWS::SNS::Topic")],
        "event_buses": [r.summary() for r in inventory.of_type("AWS::Events::EventBus")],
        "parameters": [r.summary() for r in inventory.of_type("AWS::SSM::Parameter")],
        "secrets": [r.summary() for r in inventory.of_type("AWS::SecretsManager::Secret")],
        "sites": [entry.summary() for entry in wiring.sites.entries],
        "not_emulated": [
            {**r.summary(), "status": r.status, "error": r.error}
            for r in inventory.resources
            if r.status in ("not_emulated", "failed") and r.type not in _QUIET_TYPES
        ],
        "problems": wiring.problems,
    }


def _route(route: Any, functions: dict[str, Any], front_url: str) -> dict[str, Any]:
    integration = route.integration
    function = functions.get(integration.function) if integration and integration.function else None
    authorizer = route.authorizer
    return {
        "stack": route.stack,
        "logical_id": route.logical_id,
        "cdk_path": route.cdk_path,
        "api": {
            "name": route.api.name,
            "id": route.api.id,
            "logical_id": route.api.logical_id,
            "stage": route.api.stage,
        },
        "route_key": route.route_key,
        "method": route.method,
        "path": route.path,
        "url": front_url + (route.path or "/"),
        "function": (
            {
                "logical_id": function.logical_id,
                "stack": function.stack,
                "name": function.name,
                "cdk_path": function.cdk_path,
            }
            if function
            else None
        ),
        "integration": {"type": integration.type, "uri": integration.uri} if integration else None,
        "authorization_type": route.authorization_type,
        "authorizer": (
            {
                "name": authorizer.name,
                "logical_id": authorizer.logical_id,
                "type": authorizer.type,
                "identity_sources": authorizer.identity_sources,
                "ttl": authorizer.ttl,
                "function": functions[authorizer.function].name if authorizer.function in functions else None,
            }
            if authorizer
            else None
        ),
    }


def _summary_by_arn(inventory: Inventory, arn: str) -> dict[str, Any] | None:
    base = arn.split("/stream/")[0]
    for resource in inventory.resources:
        if resource.arn in (arn, base) or resource.attributes.get("StreamArn") == arn:
            return resource.summary()
    return None


def _queue(resource: Resource, inventory: Inventory) -> dict[str, Any]:
    props = resource.properties
    redrive = props.get("RedrivePolicy") or {}
    if isinstance(redrive, str):
        redrive = json.loads(redrive)
    dlq_arn = redrive.get("deadLetterTargetArn")
    return {
        **resource.summary(),
        "fifo": resource.name.endswith(".fifo"),
        "visibility_timeout": int(props.get("VisibilityTimeout", 30)),
        "dlq": _summary_by_arn(inventory, dlq_arn) if dlq_arn else None,
        "max_receive_count": redrive.get("maxReceiveCount"),
    }


def _rule(resource: Resource, inventory: Inventory) -> dict[str, Any]:
    props = resource.properties
    targets = []
    for target in props.get("Targets") or []:
        arn = str(target.get("Arn", ""))
        mode = next((k for k in ("Input", "InputPath", "InputTransformer") if k in target), None)
        targets.append(
            {
                "id": target.get("Id"),
                "arn": arn,
                "kind": arn.split(":")[2] if arn.count(":") >= 2 else "",
                "resource": _target_summary(inventory, arn),
                "input": mode,
            }
        )
    return {
        **resource.summary(),
        "bus": resource.attributes.get("EventBusName", "default"),
        "pattern": props.get("EventPattern"),
        "schedule": props.get("ScheduleExpression"),
        "state": props.get("State", "ENABLED"),
        "targets": targets,
    }


def _target_summary(inventory: Inventory, arn: str) -> dict[str, Any] | None:
    if ":lambda:" in arn:
        function = inventory.find_function(arn)
        return function.summary() if function else None
    return _summary_by_arn(inventory, arn)


def _schedule(resource: Resource, inventory: Inventory) -> dict[str, Any]:
    props = resource.properties
    target = str((props.get("Target") or {}).get("Arn", ""))
    return {
        **resource.summary(),
        "group": resource.attributes.get("GroupName", "default"),
        "expression": props.get("ScheduleExpression"),
        "timezone": props.get("ScheduleExpressionTimezone", "UTC"),
        "state": props.get("State", "ENABLED"),
        "target": target,
        "target_resource": _target_summary(inventory, target),
    }


def _table(resource: Resource) -> dict[str, Any]:
    props = resource.properties
    return {
        **resource.summary(),
        "stream_arn": resource.attributes.get("StreamArn") if props.get("StreamSpecification") else None,
        "ttl_attribute": resource.attributes.get("TimeToLiveAttribute"),
        "indexes": [i.get("IndexName") for i in props.get("GlobalSecondaryIndexes") or []],
    }
