"""Infra tier: the CDK app synthesized once per session, offline (bundling skipped).

Runs in .venv-cdk: `.venv-cdk/bin/python -m pytest tests/infra -m infra`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Before jsii starts its Node process: silence the Node 20 end-of-life banner.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app
from stacks.constants import FOUNDATION_STACK, stack_name

SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}
IDENTITY_STACK = stack_name("identity")
SAFETY_STACK = stack_name("safety")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "infra: CDK template assertions, cdk-nag, bundling (runs in .venv-cdk)")


@dataclass
class Synthesized:
    app: cdk.App
    outdir: Path
    _templates: dict[str, Template] = field(default_factory=dict)

    def stack(self, name: str) -> cdk.Stack:
        stack = self.app.node.try_find_child(name)
        assert isinstance(stack, cdk.Stack), f"no stack {name}"
        return stack

    def template(self, name: str) -> Template:
        if name not in self._templates:
            self._templates[name] = Template.from_stack(self.stack(name))
        return self._templates[name]

    def raw(self, name: str) -> dict[str, Any]:
        """The template file exactly as written to the cloud assembly."""
        return json.loads((self.outdir / f"{name}.template.json").read_text())

    def resources(self, name: str, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw(name)["Resources"].items() if v["Type"] == type_}

    def validation_report(self) -> dict[str, Any]:
        return json.loads((self.outdir / "validation-report.json").read_text())


def synthesize(outdir: Path, context: Mapping[str, Any] | None = None) -> Synthesized:
    app = build_app({**SKIP_BUNDLING, **(context or {})}, outdir=str(outdir))
    app.synth()  # raises if cdk-nag (or any validation) reports an unacknowledged finding
    return Synthesized(app=app, outdir=outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app as cdk.json configures it (identity + safety, stage dev)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def foundation(synthesized: Synthesized) -> Template:
    return synthesized.template(FOUNDATION_STACK)


@pytest.fixture(scope="session")
def identity(synthesized: Synthesized) -> Template:
    return synthesized.template(IDENTITY_STACK)


@pytest.fixture(scope="session")
def safety(synthesized: Synthesized) -> Template:
    return synthesized.template(SAFETY_STACK)


def only(mapping: Mapping[str, Any]) -> Any:
    """The single value of a one-element mapping (e.g. `template.find_resources(...)`)."""
    assert len(mapping) == 1, f"expected exactly one, found {list(mapping)}"
    return next(iter(mapping.values()))


def functions_by_handler(template: Template) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["Handler"]: resource
        for resource in template.find_resources("AWS::Lambda::Function").values()
        if "Handler" in resource["Properties"]
    }


def policy_of(template: Template, function: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements of the default policy attached to a function's own role."""
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        found.update([action] if isinstance(action, str) else action)
    return found
