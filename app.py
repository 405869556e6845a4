#!/usr/bin/env python3
"""The Ninefold CDK app: composes the foundation and the selected systems, tags them, runs cdk-nag.

Which systems are deployed comes only from the `ninefold:systems` context (cdk.json, overridable
with `-c ninefold:systems=identity,safety`). Run without the CDK CLI, offline:

    .venv-cdk/bin/python app.py -c aws:cdk:bundling-stacks=[] [-c ninefold:systems=identity]

Without the CLI nobody reads cdk.json for us, so its context block is loaded here as the
lowest-precedence defaults; the CLI's (CDK_CONTEXT_JSON) and then `-c` values win.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.constants import (
    CONTEXT_STAGE,
    CONTEXT_SYSTEMS,
    DEFAULT_STAGE,
    FOUNDATION_SYSTEM,
    MANDATORY_SYSTEMS,
    PROJECT,
    REPO_ROOT,
    TAG_PROJECT,
    TAG_SYSTEM,
)
from stacks.foundation import FoundationStack
from stacks.system import SystemStack
from stacks.systems import SYSTEMS

CDK_JSON = REPO_ROOT / "cdk.json"
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


class AppConfigError(ValueError):
    """Bad `ninefold:*` context: raised before any stack is built, with the fix in the message."""


# What the CDK CLI sets by default, so a CLI-less synth writes the same templates: asset paths
# and construct paths in each resource's metadata, which the local cloud can use.
CLI_DEFAULTS: dict[str, Any] = {
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:enable-path-metadata": True,
}


def cdk_json_context() -> dict[str, Any]:
    return {**CLI_DEFAULTS, **json.loads(CDK_JSON.read_text()).get("context", {})}


def argv_context(argv: Sequence[str]) -> dict[str, Any]:
    """`-c key=value` / `--context key=value`, as the CDK CLI spells them.

    A value that is a JSON list or object (`aws:cdk:bundling-stacks=[]`) is decoded; anything
    else stays a string, as with the CLI.
    """
    context: dict[str, Any] = {}
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag not in ("-c", "--context") or not args or "=" not in args[0]:
            raise AppConfigError(f"usage: app.py [-c key=value ...]; got {flag!r}")
        key, value = args.pop(0).split("=", 1)
        context[key] = json.loads(value) if value[:1] in ("[", "{") else value
    return context


def selected_systems(raw: object) -> list[str]:
    """`["identity", "safety"]`, `"identity,safety"` or `'["identity"]'` -> validated names."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.lstrip().startswith("[") else raw.split(",")
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise AppConfigError(f"context {CONTEXT_SYSTEMS} must be a list of system names, got {raw!r}")
    names = list(dict.fromkeys(name.strip() for name in raw if name.strip()))
    unknown = [name for name in names if name not in SYSTEMS]
    if unknown:
        raise AppConfigError(
            f"unknown system(s) {', '.join(unknown)} in context {CONTEXT_SYSTEMS}; "
            f"known systems: {', '.join(sorted(SYSTEMS))} (register new ones in stacks/systems/__init__.py)"
        )
    missing = [name for name in MANDATORY_SYSTEMS if name not in names]
    if missing:
        raise AppConfigError(
            f"context {CONTEXT_SYSTEMS} must include {', '.join(missing)}: "
            "every other system's routes use its authorizer"
        )
    # Mandatory systems first: the others are built on what they provide.
    return [*MANDATORY_SYSTEMS, *(name for name in names if name not in MANDATORY_SYSTEMS)]


def stage_of(raw: object) -> str:
    stage = DEFAULT_STAGE if raw is None else raw
    if not isinstance(stage, str) or not _STAGE.match(stage):
        raise AppConfigError(f"context {CONTEXT_STAGE} must be a short lowercase name like 'dev', got {raw!r}")
    return stage


def tags(system: str) -> dict[str, str]:
    # Stack-level tags (cdk.json sets @aws-cdk/core:explicitStackTags): CloudFormation
    # propagates them to every resource it can tag.
    return {TAG_PROJECT: PROJECT, TAG_SYSTEM: system}


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> cdk.App:
    """The whole app, not yet synthesized. `context` overrides cdk.json, CLI and environment."""
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = str(REPO_ROOT / "cdk.out")
    app = cdk.App(context=cdk_json_context(), post_cli_context=dict(context or {}), outdir=outdir)

    stage = stage_of(app.node.try_get_context(CONTEXT_STAGE))
    systems = selected_systems(app.node.try_get_context(CONTEXT_SYSTEMS))

    foundation = FoundationStack(app, stage=stage, tags=tags(FOUNDATION_SYSTEM))
    platform = foundation.platform
    for name in systems:
        stack: SystemStack = SYSTEMS[name](app, platform=platform, tags=tags(name))
        # Identity hands the authorizer to every system after it.
        platform = stack.platform

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return app


if __name__ == "__main__":
    build_app(argv_context(sys.argv[1:])).synth()
