"""The cloud assembly reader: manifest, stacks in dependency order, construct paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localcloud.template import AssemblyError, CloudAssembly

pytestmark = pytest.mark.unit


def write_assembly(root: Path) -> None:
    root.mkdir()
    (root / "manifest.json").write_text(
        json.dumps(
            {
                "version": "48.0.0",
                "artifacts": {
                    "App": {
                        "type": "aws:cloudformation:stack",
                        "properties": {"templateFile": "App.template.json", "stackName": "Renamed-App"},
                        "dependencies": ["Core", "App.assets"],
                        "metadata": {"/Renamed-App/Fn/Resource": [{"type": "aws:cdk:logicalId", "data": "FnABC"}]},
                    },
                    "Core": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Core.template.json"}},
                    "App.assets": {"type": "cdk:asset-manifest", "properties": {"file": "App.assets.json"}},
                    "Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stage"}},
                },
            }
        )
    )
    (root / "App.template.json").write_text(json.dumps({"Resources": {"FnABC": {"Type": "AWS::Lambda::Function"}}}))
    (root / "Core.template.json").write_text(
        json.dumps({"Resources": {"T": {"Type": "AWS::SQS::Queue", "Metadata": {"aws:cdk:path": "Core/T/Resource"}}}})
    )
    nested = root / "assembly-Stage"
    nested.mkdir()
    (nested / "manifest.json").write_text(
        json.dumps(
            {"artifacts": {"Inner": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Inner.json"}}}}
        )
    )
    (nested / "Inner.json").write_text(json.dumps({"Resources": {}}))


def test_stacks_come_in_dependency_order_with_nested_assemblies(tmp_path: Path) -> None:
    write_assembly(tmp_path / "cdk.out")
    assembly = CloudAssembly.load(tmp_path / "cdk.out")
    names = [stack.name for stack in assembly.stacks]
    assert names.index("Core") < names.index("Renamed-App")
    assert "Inner" in names
    assert assembly.project_root == tmp_path.resolve()


def test_construct_paths_come_from_metadata_or_the_manifest(tmp_path: Path) -> None:
    write_assembly(tmp_path / "cdk.out")
    assembly = CloudAssembly.load(tmp_path / "cdk.out")
    assert assembly.stack("Core").cdk_path("T") == "Core/T/Resource"
    assert assembly.stack("Renamed-App").cdk_path("FnABC") == "Renamed-App/Fn/Resource"


def test_a_missing_assembly_says_to_synthesize(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match="cdk synth"):
        CloudAssembly.load(tmp_path / "nothing")
