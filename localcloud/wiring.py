"""Turn the resolved templates into the local cloud's own parts: functions, mappings, HTTP."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from localcloud import naming
from localcloud.apigw import AuthorizerSpec, HttpApiSpec, IntegrationSpec, RouteSpec
from localcloud.http import FunctionUrlSpec
from localcloud.inventory import Inventory, Resource
from localcloud.lambdas import FunctionSpec
from localcloud.sites import METADATA_KEY, Sites
from localcloud.sqs_poller import EventSourceMapping

_LAMBDA_ARN = re.compile(r"arn:aws[\w-]*:lambda:[^:]+:\d+:function:[^/:]+")


@dataclass
class Wiring:
    functions: list[FunctionSpec] = field(default_factory=list)
    mappings: list[EventSourceMapping] = field(default_factory=list)
    apis: list[HttpApiSpec] = field(default_factory=list)
    routes: list[RouteSpec] = field(default_factory=list)
    function_urls: dict[str, FunctionUrlSpec] = field(default_factory=dict)
    sites: Sites = field(default_factory=lambda: Sites([]))
    problems: list[dict[str, Any]] = field(default_factory=list)


def build(inventory: Inventory) -> Wiring:
    wiring = Wiring()
    wiring.functions = [_function(r, inventory) for r in inventory.of_type("AWS::Lambda::Function")]
    keys = {spec.key for spec in wiring.functions}
    for resource in inventory.of_type("AWS::Lambda::EventSourceMapping"):
        mapping = _mapping(resource, inventory)
        if mapping is not None and mapping.function in keys:
            wiring.mappings.append(mapping)
        else:
            resource.status = "not_emulated"
            wiring.problems.append({"resource": resource.logical_path, "problem": "unsupported event source"})
    _http(inventory, wiring)
    for resource in inventory.of_type("AWS::Lambda::Url"):
        url = _function_url(resource, inventory)
        if url is not None:
            wiring.function_urls[url.function_logical_id] = url
    wiring.sites = Sites.from_metadata(_site_metadata(inventory), inventory.assembly.project_root)
    return wiring


def function_key(resource: Resource) -> str:
    return resource.logical_path


def _function(resource: Resource, inventory: Inventory) -> FunctionSpec:
    props = resource.properties
    variables = ((props.get("Environment") or {}).get("Variables")) or {}
    spec = FunctionSpec(
        key=function_key(resource),
        logical_id=resource.logical_id,
        stack=resource.stack,
        cdk_path=resource.cdk_path,
        name=resource.name,
        arn=resource.arn or "",
        handler=str(props.get("Handler") or ""),
        runtime=str(props.get("Runtime") or "python3.11"),
        timeout=float(props.get("Timeout") or 3),
        memory=int(props.get("MemorySize") or 128),
        environment={str(k): _env_text(v) for k, v in variables.items()},
    )
    for config in inventory.of_type("AWS::Lambda::EventInvokeConfig"):
        target = inventory.find_function(str(config.properties.get("FunctionName", "")))
        if target is not resource:
            continue
        settings = config.properties
        spec.max_retry_attempts = int(settings.get("MaximumRetryAttempts", spec.max_retry_attempts))
        spec.max_event_age = float(settings.get("MaximumEventAgeInSeconds", spec.max_event_age))
        destinations = settings.get("DestinationConfig") or {}
        spec.on_failure = (destinations.get("OnFailure") or {}).get("Destination")
        spec.on_success = (destinations.get("OnSuccess") or {}).get("Destination")
    return spec


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _mapping(resource: Resource, inventory: Inventory) -> EventSourceMapping | None:
    props = resource.properties
    source = str(props.get("EventSourceArn") or "")
    kind = "sqs" if ":sqs:" in source else "dynamodb" if ":dynamodb:" in source and "/stream/" in source else ""
    function = inventory.find_function(str(props.get("FunctionName", "")))
    if not kind or function is None:
        return None
    filters = []
    for entry in ((props.get("FilterCriteria") or {}).get("Filters")) or []:
        pattern = entry.get("Pattern")
        filters.append(json.loads(pattern) if isinstance(pattern, str) else pattern)
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return EventSourceMapping(
        key=resource.logical_path,
        logical_id=resource.logical_id,
        stack=resource.stack,
        cdk_path=resource.cdk_path,
        uuid=resource.id,
        function=function_key(function),
        function_name=function.name,
        source_arn=source,
        kind=kind,
        batch_size=int(props.get("BatchSize") or (10 if kind == "sqs" else 100)),
        batching_window=float(props.get("MaximumBatchingWindowInSeconds") or 0),
        report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        enabled=str(props.get("Enabled", True)).lower() != "false",
        filters=filters,
        starting_position=str(props.get("StartingPosition") or "LATEST"),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        on_failure=destination,
    )


def _function_key_from_uri(uri: str, inventory: Inventory) -> str | None:
    match = _LAMBDA_ARN.search(uri)
    candidate = match.group(0) if match else uri
    function = inventory.find_function(candidate)
    return function_key(function) if function else None


def _http(inventory: Inventory, wiring: Wiring) -> None:
    apis: dict[str, HttpApiSpec] = {}
    for resource in inventory.of_type("AWS::ApiGatewayV2::Api"):
        if str(resource.properties.get("ProtocolType", "HTTP")).upper() != "HTTP":
            resource.status = "not_emulated"
            continue
        apis[resource.id] = HttpApiSpec(
            key=resource.logical_path,
            logical_id=resource.logical_id,
            stack=resource.stack,
            cdk_path=resource.cdk_path,
            id=resource.id,
            name=str(resource.properties.get("Name") or resource.name),
            cors=resource.properties.get("CorsConfiguration"),
        )
    stages: dict[str, list[str]] = {}
    for stage in inventory.of_type("AWS::ApiGatewayV2::Stage"):
        stages.setdefault(str(stage.properties.get("ApiId")), []).append(str(stage.properties.get("StageName") or ""))
    for api_id, api in apis.items():
        names = stages.get(api_id, [])
        # Routes are served at the root either way; requestContext.stage says which stage.
        api.stage = names[0] if names and "$default" not in names else "$default"
    integrations = {
        r.id: IntegrationSpec(
            id=r.id,
            logical_id=r.logical_id,
            type=str(r.properties.get("IntegrationType", "")),
            function=_function_key_from_uri(str(r.properties.get("IntegrationUri", "")), inventory),
            uri=str(r.properties.get("IntegrationUri", "")),
            payload_version=str(r.properties.get("PayloadFormatVersion", "2.0")),
        )
        for r in inventory.of_type("AWS::ApiGatewayV2::Integration")
    }
    for integration in integrations.values():
        if integration.function is None:
            problem = f"{integration.type} integration to {integration.uri!r} is not emulated (Lambda proxy only)"
            wiring.problems.append({"resource": integration.logical_id, "problem": problem})
        elif integration.payload_version != "2.0":
            problem = f"payload format {integration.payload_version} is served as 2.0"
            wiring.problems.append({"resource": integration.logical_id, "problem": problem})
    authorizers = {r.id: _authorizer(r, inventory) for r in inventory.of_type("AWS::ApiGatewayV2::Authorizer")}
    for route in inventory.of_type("AWS::ApiGatewayV2::Route"):
        props = route.properties
        route_api = apis.get(str(props.get("ApiId")))
        if route_api is None:
            continue
        target = str(props.get("Target") or "")
        authorization = str(props.get("AuthorizationType") or "NONE").upper()
        wiring.routes.append(
            RouteSpec(
                api=route_api,
                logical_id=route.logical_id,
                stack=route.stack,
                cdk_path=route.cdk_path,
                route_key=str(props.get("RouteKey")),
                integration=integrations.get(target.removeprefix("integrations/")),
                authorizer=authorizers.get(str(props.get("AuthorizerId")))
                if authorization in ("CUSTOM", "JWT")
                else None,
                authorization_type=authorization,
                scopes=list(props.get("AuthorizationScopes") or []),
            )
        )
    wiring.apis = list(apis.values())


def _authorizer(resource: Resource, inventory: Inventory) -> AuthorizerSpec:
    props = resource.properties
    jwt = props.get("JwtConfiguration") or {}
    sources = props.get("IdentitySource") or []
    return AuthorizerSpec(
        id=resource.id,
        logical_id=resource.logical_id,
        name=str(props.get("Name") or resource.logical_id),
        type=str(props.get("AuthorizerType", "REQUEST")).upper(),
        function=_function_key_from_uri(str(props.get("AuthorizerUri", "")), inventory),
        identity_sources=[str(s) for s in (sources if isinstance(sources, list) else str(sources).split(","))],
        ttl=int(props.get("AuthorizerResultTtlInSeconds") or 0),
        simple_responses=str(props.get("EnableSimpleResponses", False)).lower() == "true",
        payload_version=str(props.get("AuthorizerPayloadFormatVersion") or "2.0"),
        issuer=jwt.get("Issuer"),
        audience=list(jwt.get("Audience") or []),
    )


def _function_url(resource: Resource, inventory: Inventory) -> FunctionUrlSpec | None:
    props = resource.properties
    function = inventory.find_function(str(props.get("TargetFunctionArn", "")))
    if function is None:
        resource.status = "failed"
        resource.error = "target function not found"
        return None
    return FunctionUrlSpec(
        logical_id=resource.logical_id,
        stack=resource.stack,
        cdk_path=resource.cdk_path,
        function=function_key(function),
        function_logical_id=function.logical_id,
        auth_type=str(props.get("AuthType", "NONE")),
        url=resource.url or "",
        url_id=naming.stable_id(resource.stack, resource.logical_id, length=32),
        cors=props.get("Cors"),
    )


def _site_metadata(inventory: Inventory) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    for stack in inventory.iter_stacks():
        if METADATA_KEY in stack.metadata:
            found.append((stack.name, "", stack.metadata[METADATA_KEY]))
        for logical_id, definition in stack.resources.items():
            metadata = definition.get("Metadata") or {}
            if METADATA_KEY in metadata:
                found.append((stack.name, logical_id, metadata[METADATA_KEY]))
    return found
