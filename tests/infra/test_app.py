"""The app: system selection from context, tags, cdk-nag, stage-dependent protection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import AppConfigError, argv_context, build_app, cdk_json_context, selected_systems
from stacks.constants import CONTEXT_STAGE, CONTEXT_SYSTEMS, FOUNDATION_STACK, REPO_ROOT, stack_name
from stacks.nag import MIN_REASON_LENGTH, acknowledge, acknowledged_rules
from stacks.systems import SYSTEMS
from tests.infra.conftest import IDENTITY_STACK, SAFETY_STACK, Synthesized, synthesize

pytestmark = pytest.mark.infra


def stacks_of(synthesized: Synthesized) -> set[str]:
    return {child.node.id for child in synthesized.app.node.children if isinstance(child, cdk.Stack)}


def test_cdk_json_selects_identity_safety_and_workflows_for_dev() -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    assert context[CONTEXT_SYSTEMS] == ["identity", "safety", "workflows"]
    assert context[CONTEXT_STAGE] == "dev"
    # Exports/ImportValue: the foundation cannot be deleted under the systems (see cdk.json).
    assert context["@aws-cdk/core:defaultCrossStackReferences"] == "strong"


def test_default_app_has_the_foundation_and_the_configured_systems(synthesized: Synthesized) -> None:
    assert stacks_of(synthesized) == {FOUNDATION_STACK, IDENTITY_STACK, SAFETY_STACK, stack_name("workflows")}


def test_stacks_are_tagged_with_project_and_system(synthesized: Synthesized) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    tags = {
        name: artifact["properties"].get("tags")
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert tags == {
        FOUNDATION_STACK: {"project": "ninefold", "system": "foundation"},
        IDENTITY_STACK: {"project": "ninefold", "system": "identity"},
        SAFETY_STACK: {"project": "ninefold", "system": "safety"},
        stack_name("workflows"): {"project": "ninefold", "system": "workflows"},
    }


def test_cdk_nag_reports_nothing_unacknowledged(synthesized: Synthesized) -> None:
    # synthesize() already raised if cdk-nag failed; the report says the same in writing.
    report = synthesized.validation_report()
    assert report["pluginReports"] == [], json.dumps(report, indent=1)


def test_every_acknowledgement_has_a_reason_and_sits_on_one_resource(synthesized: Synthesized) -> None:
    found = acknowledged_rules(synthesized.app)
    assert found, "the app acknowledges some findings (L1, X-Ray IAM5, ...)"
    by_path = {construct.node.path: construct for construct in synthesized.app.node.find_all()}
    for path, rules in found.items():
        # cdk-nag honours acknowledgements on ancestors: one on a scope would hide its children.
        assert cdk.CfnResource.is_cfn_resource(by_path[path]), f"{path}: acknowledge on the resource, not a scope"
        for rule, reason in rules.items():
            assert len(reason.strip()) >= MIN_REASON_LENGTH, f"{path} {rule}: {reason!r}"


def test_acknowledgements_reach_the_templates_as_an_audit_trail(synthesized: Synthesized) -> None:
    trail = [
        rule
        for stack in (FOUNDATION_STACK, IDENTITY_STACK, SAFETY_STACK)
        for resource in synthesized.raw(stack)["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert trail
    assert all(rule["reason"].strip() for rule in trail)


def test_an_acknowledgement_without_a_reason_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Scratch")
    topic = cdk.CfnResource(stack, "Thing", type="AWS::SNS::Topic")
    with pytest.raises(ValueError, match="real reason"):
        acknowledge(topic, "AwsSolutions-SNS2", "because")


def test_leaving_out_safety_still_synthesizes(tmp_path: Path) -> None:
    identity_only = synthesize(tmp_path, {CONTEXT_SYSTEMS: "identity"})
    assert stacks_of(identity_only) == {FOUNDATION_STACK, IDENTITY_STACK}
    assert identity_only.validation_report()["pluginReports"] == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["identity", "safety"], ["identity", "safety"]),
        ("identity,safety", ["identity", "safety"]),
        ('["safety", "identity"]', ["identity", "safety"]),
        ("identity, identity", ["identity"]),
    ],
)
def test_systems_come_from_a_list_or_the_cli_string(raw: Any, expected: list[str]) -> None:
    assert selected_systems(raw) == expected


def test_makefile_style_context_arguments_are_understood() -> None:
    assert argv_context(["-c", "aws:cdk:bundling-stacks=[]", "--context", "ninefold:systems=identity,safety"]) == {
        "aws:cdk:bundling-stacks": [],
        "ninefold:systems": "identity,safety",
    }
    with pytest.raises(AppConfigError, match="usage"):
        argv_context(["--verbose"])


def test_an_unknown_system_fails_with_a_clear_message() -> None:
    with pytest.raises(AppConfigError, match=r"unknown system\(s\) billing-typo .*known systems: identity, safety"):
        build_app({CONTEXT_SYSTEMS: ["identity", "billing-typo"]})


def test_identity_cannot_be_left_out() -> None:
    with pytest.raises(AppConfigError, match="must include identity"):
        selected_systems(["safety"])


def test_every_registered_system_is_named_after_its_key() -> None:
    assert all(cls.system == name for name, cls in SYSTEMS.items())


def test_bad_stage_is_refused() -> None:
    with pytest.raises(AppConfigError, match=CONTEXT_STAGE):
        build_app({CONTEXT_STAGE: "Prod Stage"})


def test_cdk_json_context_is_loaded_without_the_cli() -> None:
    context = cdk_json_context()
    assert context["@aws-cdk/core:explicitStackTags"] is True
    assert context["aws:cdk:enable-path-metadata"] is True


def test_prod_tables_are_protected_and_retained(tmp_path: Path) -> None:
    prod = synthesize(tmp_path, {CONTEXT_STAGE: "prod", CONTEXT_SYSTEMS: ["identity"]})
    (table,) = prod.resources(IDENTITY_STACK, "AWS::DynamoDB::GlobalTable").values()
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    bus = next(iter(prod.resources(FOUNDATION_STACK, "AWS::Events::EventBus").values()))
    assert bus["Properties"]["Name"] == "ninefold-prod"
