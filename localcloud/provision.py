"""Create the templates' data-plane resources in moto, in dependency order.

Resources the local cloud emulates itself (functions, event source mappings,
HTTP APIs, function URLs) only get their properties resolved here; `wiring.py`
turns them into running parts. Anything else is listed as not emulated.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from localcloud import intrinsics
from localcloud.clients import Clients
from localcloud.inventory import Inventory, Resource, StackResources, Urls
from localcloud.template import StackTemplate

log = logging.getLogger("localcloud.provision")

# Emulated by the local cloud itself (see wiring.py): resolved, not created in moto.
WIRED_TYPES = {
    "AWS::Lambda::Function",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Url",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Authorizer",
}

_DEFAULT_THROUGHPUT = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
_RULE_TARGET_KEYS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "InputTransformer",
    "SqsParameters",
    "RetryPolicy",
    "DeadLetterConfig",
)
_SCHEDULE_TARGET_KEYS = (
    "Arn",
    "RoleArn",
    "Input",
    "SqsParameters",
    "EventBridgeParameters",
    "RetryPolicy",
    "DeadLetterConfig",
)


class Provisioner:
    def __init__(
        self,
        inventory: Inventory,
        clients: Clients,
        urls: Urls,
        parameters: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.inventory = inventory
        self.clients = clients
        self.urls = urls
        self.parameters = parameters or {}
        self.creators: dict[str, Callable[[Resource, StackResources], None]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::DynamoDB::GlobalTable": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::S3::Bucket": self._bucket,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._rule,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::SSM::Parameter": self._parameter,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::Logs::LogGroup": self._log_group,
            "Custom::S3BucketNotifications": self._bucket_notifications,
        }

    def run(self) -> None:
        for stack in self.inventory.iter_stacks():
            context = StackResources(stack, self.inventory, self.urls, self.parameters.get(stack.name))
            self.inventory.contexts[stack.name] = context
            for logical_id in dependency_order(stack):
                self._provision(self.inventory.get(stack.name, logical_id), context)
            self._exports(stack, context)

    def _provision(self, resource: Resource, context: StackResources) -> None:
        condition = resource.definition.get("Condition")
        try:
            if isinstance(condition, str) and not context.resolver.condition(condition):
                resource.status = "skipped"
                return
            context.resource(resource.logical_id)  # name, ARN, URL
            creator = self.creators.get(resource.type)
            if resource.type in WIRED_TYPES or creator is not None:
                resource.properties = context.resolver.resolve(resource.raw_properties)
            if creator is not None:
                creator(resource, context)
                resource.status = "created"
            else:
                resource.status = "wired" if resource.type in WIRED_TYPES else "not_emulated"
        except Exception as exc:
            resource.status = "failed"
            resource.error = f"{type(exc).__name__}: {exc}"
            log.warning("could not provision %s/%s (%s): %s", resource.stack, resource.logical_id, resource.type, exc)

    def _exports(self, stack: StackTemplate, context: StackResources) -> None:
        for name, output in (stack.template.get("Outputs") or {}).items():
            export = output.get("Export") if isinstance(output, dict) else None
            if not export:
                continue
            try:
                self.inventory.exports[str(context.resolver.resolve(export["Name"]))] = context.resolver.resolve(
                    output["Value"]
                )
            except Exception as exc:
                log.warning("output %s of %s not exported: %s", name, stack.name, exc)

    # -- DynamoDB ----------------------------------------------------------------

    def _table(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        billing = props.get("BillingMode") or (
            "PAY_PER_REQUEST" if resource.type.endswith("GlobalTable") else "PROVISIONED"
        )
        request: dict[str, Any] = {
            "TableName": resource.name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = props.get("ProvisionedThroughput") or _DEFAULT_THROUGHPUT
        indexes = [_index(i, billing) for i in props.get("GlobalSecondaryIndexes") or []]
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        local_indexes = [_index(i, None) for i in props.get("LocalSecondaryIndexes") or []]
        if local_indexes:
            request["LocalSecondaryIndexes"] = local_indexes
        view_type = (props.get("StreamSpecification") or {}).get("StreamViewType")
        if view_type:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
        dynamodb = self.clients.get("dynamodb")
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification") or {}
        if str(ttl.get("Enabled")).lower() == "true" and ttl.get("AttributeName"):
            dynamodb.update_time_to_live(
                TableName=resource.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
            resource.attributes["TimeToLiveAttribute"] = ttl["AttributeName"]
        if description.get("LatestStreamArn"):
            resource.attributes["StreamArn"] = description["LatestStreamArn"]

    # -- SQS / SNS ---------------------------------------------------------------------

    def _queue(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        attributes = {name: _attribute(props[name]) for name in _QUEUE_ATTRIBUTES if name in props}
        if str(props.get("FifoQueue")).lower() == "true":
            attributes["FifoQueue"] = "true"
        for name in ("RedrivePolicy", "RedriveAllowPolicy"):
            if props.get(name):
                value = props[name]
                attributes[name] = value if isinstance(value, str) else json.dumps(value)
        self.clients.get("sqs").create_queue(QueueName=resource.name, Attributes=attributes)

    def _topic(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        attributes = {}
        for name in ("FifoTopic", "ContentBasedDeduplication", "DisplayName"):
            if name in props:
                attributes[name] = _attribute(props[name])
        sns = self.clients.get("sns")
        arn = sns.create_topic(Name=resource.name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription") or []:
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])

    def _subscription(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        attributes: dict[str, str] = {}
        for name in ("RawMessageDelivery", "FilterPolicyScope"):
            if name in props:
                attributes[name] = _attribute(props[name])
        for name in ("FilterPolicy", "RedrivePolicy"):
            if props.get(name):
                attributes[name] = props[name] if isinstance(props[name], str) else json.dumps(props[name])
        response = self.clients.get("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint", ""),
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )
        resource.ref = response["SubscriptionArn"]

    # -- S3 ------------------------------------------------------------------------------

    def _bucket(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        s3 = self.clients.get("s3")
        s3.create_bucket(Bucket=resource.name)
        rules = (props.get("CorsConfiguration") or {}).get("CorsRules") or []
        if rules:
            s3.put_bucket_cors(Bucket=resource.name, CORSConfiguration={"CORSRules": [_cors_rule(r) for r in rules]})
        status = (props.get("VersioningConfiguration") or {}).get("Status")
        if status:
            s3.put_bucket_versioning(Bucket=resource.name, VersioningConfiguration={"Status": status})
        notifications = _bucket_notification_config(props.get("NotificationConfiguration") or {})
        if notifications:
            s3.put_bucket_notification_configuration(
                Bucket=resource.name, NotificationConfiguration=notifications, SkipDestinationValidation=True
            )

    def _bucket_notifications(self, resource: Resource, context: StackResources) -> None:
        """CDK's `Custom::S3BucketNotifications` carries the S3 API shape already."""
        props = resource.properties
        configuration = {k: v for k, v in (props.get("NotificationConfiguration") or {}).items() if v}
        self.clients.get("s3").put_bucket_notification_configuration(
            Bucket=props["BucketName"], NotificationConfiguration=configuration, SkipDestinationValidation=True
        )

    # -- EventBridge / Scheduler ------------------------------------------------------------

    def _event_bus(self, resource: Resource, context: StackResources) -> None:
        self.clients.get("events").create_event_bus(Name=resource.name)

    def _rule(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        bus = resource.attributes.get("EventBusName", "default")
        request: dict[str, Any] = {"Name": resource.name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if props.get("EventPattern") is not None:
            pattern = props["EventPattern"]
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if props.get("ScheduleExpression"):
            request["ScheduleExpression"] = props["ScheduleExpression"]
        if props.get("Description"):
            request["Description"] = props["Description"]
        events = self.clients.get("events")
        events.put_rule(**request)
        targets = [{k: t[k] for k in _RULE_TARGET_KEYS if k in t} for t in props.get("Targets") or []]
        if targets:
            events.put_targets(Rule=resource.name, EventBusName=bus, Targets=targets)

    def _schedule_group(self, resource: Resource, context: StackResources) -> None:
        if resource.name != "default":
            self.clients.get("scheduler").create_schedule_group(Name=resource.name)

    def _schedule(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        target = {k: props["Target"][k] for k in _SCHEDULE_TARGET_KEYS if k in props["Target"]}
        target.setdefault("RoleArn", f"arn:aws:iam::{intrinsics.ACCOUNT_ID}:role/local-scheduler")
        request: dict[str, Any] = {
            "Name": resource.name,
            "ScheduleExpression": props["ScheduleExpression"],
            "FlexibleTimeWindow": props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            "Target": target,
        }
        for name in ("GroupName", "ScheduleExpressionTimezone", "State", "Description", "StartDate", "EndDate"):
            if props.get(name):
                request[name] = props[name]
        self.clients.get("scheduler").create_schedule(**request)

    # -- Step Functions ---------------------------------------------------------------------

    def _state_machine(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        definition = self._definition(props)
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", value if isinstance(value, str) else json.dumps(value))
        self.clients.get("stepfunctions").create_state_machine(
            name=resource.name,
            definition=definition,
            roleArn=props.get("RoleArn") or f"arn:aws:iam::{intrinsics.ACCOUNT_ID}:role/local-states",
            type=props.get("StateMachineType", "STANDARD"),
        )

    def _definition(self, props: dict[str, Any]) -> str:
        if props.get("DefinitionString"):
            return str(props["DefinitionString"])
        if props.get("Definition") is not None:
            return json.dumps(props["Definition"])
        location = props.get("DefinitionS3Location") or {}
        key = str(location.get("Key", ""))
        asset = _asset_file(self.inventory.assembly.directory, key)
        if asset is None:
            raise ValueError(f"definition in S3 ({key}) not found in the cloud assembly")
        return asset.read_text(encoding="utf-8")

    # -- SSM / Secrets Manager / Logs ------------------------------------------------------------

    def _parameter(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        value = props.get("Value", "")
        self.clients.get("ssm").put_parameter(
            Name=resource.name, Value=str(value), Type=props.get("Type", "String"), Overwrite=True
        )
        resource.attributes["Value"] = value
        resource.attributes["Type"] = props.get("Type", "String")

    def _secret(self, resource: Resource, context: StackResources) -> None:
        props = resource.properties
        secret = props.get("SecretString")
        if secret is None:
            secret = _generated_secret(props.get("GenerateSecretString") or {})
        response = self.clients.get("secretsmanager").create_secret(Name=resource.name, SecretString=str(secret))
        resource.arn = response["ARN"]
        resource.ref = response["ARN"]
        resource.attributes["Id"] = response["ARN"]

    def _log_group(self, resource: Resource, context: StackResources) -> None:
        self.clients.get("logs").create_log_group(logGroupName=resource.name)


def dependency_order(stack: StackTemplate) -> list[str]:
    """Logical ids so that every resource comes after what it references."""
    resources = stack.resources
    ordered: list[str] = []
    state: dict[str, int] = {}

    def visit(logical_id: str) -> None:
        if state.get(logical_id) == 2:
            return
        if state.get(logical_id) == 1:
            return  # a cycle: CloudFormation would reject it; keep going
        state[logical_id] = 1
        definition = resources[logical_id]
        depends = definition.get("DependsOn") or []
        needed = intrinsics.references(definition.get("Properties") or {}) | set(
            [depends] if isinstance(depends, str) else depends
        )
        for dependency in sorted(needed):
            if dependency in resources:
                visit(dependency)
        state[logical_id] = 2
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered


def _index(index: dict[str, Any], billing: str | None) -> dict[str, Any]:
    shaped: dict[str, Any] = {k: index[k] for k in ("IndexName", "KeySchema", "Projection") if k in index}
    if billing == "PROVISIONED":
        shaped["ProvisionedThroughput"] = index.get("ProvisionedThroughput") or _DEFAULT_THROUGHPUT
    return shaped


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    renamed = {"ExposedHeaders": "ExposeHeaders", "Id": "ID", "MaxAge": "MaxAgeSeconds"}
    return {renamed.get(k, k): v for k, v in rule.items()}


def _bucket_notification_config(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration -> the S3 API's."""

    def shaped(items: list[dict[str, Any]], arn_key: str, api_arn_key: str) -> list[dict[str, Any]]:
        result = []
        for item in items:
            entry: dict[str, Any] = {api_arn_key: item[arn_key], "Events": [item["Event"]]}
            rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            result.append(entry)
        return result

    api: dict[str, Any] = {}
    if config.get("QueueConfigurations"):
        api["QueueConfigurations"] = shaped(config["QueueConfigurations"], "Queue", "QueueArn")
    if config.get("LambdaConfigurations"):
        api["LambdaFunctionConfigurations"] = shaped(config["LambdaConfigurations"], "Function", "LambdaFunctionArn")
    if config.get("TopicConfigurations"):
        api["TopicConfigurations"] = shaped(config["TopicConfigurations"], "Topic", "TopicArn")
    if str((config.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")).lower() == "true":
        api["EventBridgeConfiguration"] = {}
    return api


def _generated_secret(spec: dict[str, Any]) -> str:
    length = int(spec.get("PasswordLength", 32))
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    alphabet = "".join(c for c in alphabet if c not in excluded) or string.ascii_letters
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        document = json.loads(template)
        document[key] = password
        return json.dumps(document)
    return password


def _asset_file(assembly: Path, key: str) -> Path | None:
    """`DefinitionBody.from_file` uploads an asset; its copy sits in cdk.out."""
    stem = key.rsplit("/", 1)[-1]
    for candidate in (assembly / f"asset.{stem}", assembly / stem):
        if candidate.is_file():
            return candidate
    digest = stem.split(".")[0]
    matches = sorted(assembly.glob(f"asset.{digest}*"))
    return next((m for m in matches if m.is_file()), None)
