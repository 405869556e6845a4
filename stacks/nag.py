"""cdk-nag acknowledgements with a reason a reviewer can check.

cdk-nag 3 honours an acknowledgement on the flagged resource *or any ancestor*, so one placed on
an L2 construct or a stack silently covers every child. `acknowledge` therefore always lands on
the single CloudFormation resource that raised the finding, and takes one finding id at a time
(`AwsSolutions-IAM5[Resource::*]`, not `AwsSolutions-IAM5`).
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import IConstruct

MIN_REASON_LENGTH = 20
_ANNOTATION = re.compile(r"^annotation::", re.IGNORECASE)


def cfn_resource(construct: IConstruct) -> cdk.CfnResource:
    """The construct itself if it is an L1 resource, else the L1 resource it wraps."""
    if cdk.CfnResource.is_cfn_resource(construct):
        return construct  # type: ignore[return-value]
    child = construct.node.default_child
    if child is None or not cdk.CfnResource.is_cfn_resource(child):
        raise TypeError(f"{construct.node.path} wraps no single CloudFormation resource")
    return child  # type: ignore[return-value]


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule_id} on {construct.node.path} needs a real reason, got {reason!r}")
    cdk.Validations.of(cfn_resource(construct)).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason.strip()))


def acknowledged_rules(root: IConstruct) -> dict[str, dict[str, str]]:
    """Construct path -> {rule id: reason}, for tests and audits.

    The CDK stores ids with an `Annotation::` prefix; cdk-nag strips it to match, and so do we.
    """
    found: dict[str, dict[str, str]] = {}
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY and entry.data:
                rules = {_ANNOTATION.sub("", rule): reason for rule, reason in dict(entry.data).items()}
                found.setdefault(construct.node.path, {}).update(rules)
    return found
