"""Physical names, ids and ARNs the local cloud gives template resources.

A name set in the template is used as is. Otherwise the name is
`<stack>-<logicalId>` (CloudFormation's shape without the random suffix), so
that restarts give the same names and tests can predict them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from localcloud.intrinsics import ACCOUNT_ID, PARTITION, REGION


@dataclass(frozen=True)
class TypeRule:
    name_property: str | None
    max_length: int = 64
    allowed: str = r"A-Za-z0-9_\-"
    lowercase: bool = False
    ref: str = "name"  # which identity value Ref returns: name | arn | url | id
    arn: str | None = None  # format string over {name}, {id}, {region}, {account}, {partition}
    attributes: dict[str, str] = field(default_factory=dict)


TYPE_RULES: dict[str, TypeRule] = {
    "AWS::DynamoDB::Table": TypeRule(
        "TableName", 255, r"A-Za-z0-9_.\-", arn="arn:{partition}:dynamodb:{region}:{account}:table/{name}"
    ),
    "AWS::DynamoDB::GlobalTable": TypeRule(
        "TableName", 255, r"A-Za-z0-9_.\-", arn="arn:{partition}:dynamodb:{region}:{account}:table/{name}"
    ),
    "AWS::SQS::Queue": TypeRule(
        "QueueName",
        80,
        ref="url",
        arn="arn:{partition}:sqs:{region}:{account}:{name}",
        attributes={"QueueName": "{name}", "QueueUrl": "{url}"},
    ),
    "AWS::S3::Bucket": TypeRule(
        "BucketName",
        63,
        r"a-z0-9.\-",
        lowercase=True,
        arn="arn:{partition}:s3:::{name}",
        attributes={
            "DomainName": "{name}.s3.amazonaws.com",
            "RegionalDomainName": "{name}.s3.{region}.amazonaws.com",
            "DualStackDomainName": "{name}.s3.dualstack.{region}.amazonaws.com",
            "WebsiteURL": "http://{name}.s3-website-{region}.amazonaws.com",
        },
    ),
    "AWS::Events::EventBus": TypeRule(
        "Name",
        256,
        r"A-Za-z0-9_.\-",
        arn="arn:{partition}:events:{region}:{account}:event-bus/{name}",
        attributes={"Name": "{name}"},
    ),
    "AWS::Events::Rule": TypeRule("Name", 64, r"A-Za-z0-9_.\-"),
    "AWS::StepFunctions::StateMachine": TypeRule(
        "StateMachineName",
        80,
        ref="arn",
        arn="arn:{partition}:states:{region}:{account}:stateMachine:{name}",
        attributes={"Name": "{name}", "StateMachineRevisionId": "1"},
    ),
    "AWS::Lambda::Function": TypeRule(
        "FunctionName", 64, arn="arn:{partition}:lambda:{region}:{account}:function:{name}"
    ),
    "AWS::Lambda::LayerVersion": TypeRule(
        "LayerName", 64, ref="arn", arn="arn:{partition}:lambda:{region}:{account}:layer:{name}:1"
    ),
    "AWS::Lambda::EventSourceMapping": TypeRule(None, ref="id", attributes={"Id": "{id}"}),
    "AWS::Scheduler::Schedule": TypeRule("Name", 64, r"A-Za-z0-9_.\-"),
    "AWS::Scheduler::ScheduleGroup": TypeRule(
        "Name", 64, r"A-Za-z0-9_.\-", arn="arn:{partition}:scheduler:{region}:{account}:schedule-group/{name}"
    ),
    "AWS::SNS::Topic": TypeRule(
        "TopicName",
        256,
        ref="arn",
        arn="arn:{partition}:sns:{region}:{account}:{name}",
        attributes={"TopicName": "{name}", "TopicArn": "{arn}"},
    ),
    "AWS::SNS::Subscription": TypeRule(None, ref="id"),
    "AWS::ApiGatewayV2::Api": TypeRule(None, ref="id", attributes={"ApiId": "{id}"}),
    "AWS::ApiGatewayV2::Integration": TypeRule(None, ref="id", attributes={"IntegrationId": "{id}"}),
    "AWS::ApiGatewayV2::Route": TypeRule(None, ref="id", attributes={"RouteId": "{id}"}),
    "AWS::ApiGatewayV2::Authorizer": TypeRule(None, ref="id", attributes={"AuthorizerId": "{id}"}),
    "AWS::ApiGatewayV2::Stage": TypeRule("StageName", 128, r"A-Za-z0-9_$\-"),
    "AWS::ApiGatewayV2::Deployment": TypeRule(None, ref="id", attributes={"DeploymentId": "{id}"}),
    "AWS::IAM::Role": TypeRule(
        "RoleName",
        64,
        r"A-Za-z0-9_+=,.@\-",
        arn="arn:{partition}:iam::{account}:role/{name}",
        attributes={"RoleId": "AROA{id_upper}"},
    ),
    "AWS::IAM::ManagedPolicy": TypeRule(
        "ManagedPolicyName",
        128,
        r"A-Za-z0-9_+=,.@\-",
        ref="arn",
        arn="arn:{partition}:iam::{account}:policy/{name}",
        attributes={"PolicyArn": "{arn}"},
    ),
    "AWS::IAM::Policy": TypeRule("PolicyName", 128, r"A-Za-z0-9_+=,.@\-", attributes={"Id": "{name}"}),
    "AWS::KMS::Key": TypeRule(
        None, ref="id", arn="arn:{partition}:kms:{region}:{account}:key/{id}", attributes={"KeyId": "{id}"}
    ),
    "AWS::Logs::LogGroup": TypeRule(
        "LogGroupName", 512, r"A-Za-z0-9_/.#\-", arn="arn:{partition}:logs:{region}:{account}:log-group:{name}:*"
    ),
    "AWS::SSM::Parameter": TypeRule("Name", 1011, r"A-Za-z0-9_./\-"),
    "AWS::SecretsManager::Secret": TypeRule(
        "Name",
        512,
        r"A-Za-z0-9/_+=.@\-",
        ref="arn",
        arn="arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-LoCaL1",
        attributes={"Id": "{arn}"},
    ),
    "AWS::CloudFront::Distribution": TypeRule(
        None, ref="id", attributes={"Id": "{id}", "DomainName": "{id_lower}.cloudfront.net"}
    ),
}


def stable_id(*parts: str, length: int = 10) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return digest[:length]


def generated_name(stack: str, logical_id: str, rule: TypeRule, suffix: str = "") -> str:
    name = f"{stack}-{logical_id}"
    if rule.lowercase:
        name = name.lower()
    name = re.sub(f"[^{rule.allowed}]", "-", name)
    limit = rule.max_length - len(suffix)
    if len(name) > limit:
        digest = stable_id(stack, logical_id, length=8)
        name = name[: limit - 9].rstrip("-") + "-" + digest
    return name + suffix


def generic_arn(resource_type: str, name: str) -> str:
    parts = resource_type.split("::")
    service = parts[1].lower() if len(parts) > 1 else "custom"
    kind = parts[2].lower() if len(parts) > 2 else "resource"
    return f"arn:{PARTITION}:{service}:{REGION}:{ACCOUNT_ID}:{kind}/{name}"


def format_value(template: str, **values: str) -> str:
    base = {"region": REGION, "account": ACCOUNT_ID, "partition": PARTITION}
    base.update(values)
    return template.format(**base)
