"""Reading what `cdk synth` wrote: the manifest, its stacks and their templates."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"


class AssemblyError(Exception):
    """The cloud assembly is missing or unreadable."""


@dataclass
class StackTemplate:
    name: str
    artifact_id: str
    template: dict[str, Any]
    template_path: Path
    dependencies: tuple[str, ...] = ()
    # cdk construct path -> logical id, from the manifest's metadata, for
    # templates synthesized without `aws:cdk:path` resource metadata.
    manifest_paths: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template.get("Resources") or {}
        return resources

    @property
    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.template.get("Metadata") or {}
        return meta

    def cdk_path(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id) or {}
        path = (resource.get("Metadata") or {}).get("aws:cdk:path")
        if isinstance(path, str):
            return path
        for construct_path, lid in self.manifest_paths.items():
            if lid == logical_id:
                return construct_path.lstrip("/")
        return None


@dataclass
class CloudAssembly:
    directory: Path
    stacks: list[StackTemplate]

    @property
    def project_root(self) -> Path:
        """Sources in templates' metadata (sites, assets) are relative to this."""
        return self.directory.resolve().parent

    def stack(self, name: str) -> StackTemplate:
        for stack in self.stacks:
            if name in (stack.name, stack.artifact_id):
                return stack
        raise KeyError(name)

    @classmethod
    def load(cls, directory: Path) -> CloudAssembly:
        directory = Path(directory)
        manifest_file = directory / "manifest.json"
        if not manifest_file.is_file():
            raise AssemblyError(f"no cloud assembly at {directory} (missing manifest.json); run `cdk synth` first")
        stacks: list[StackTemplate] = []
        _collect_stacks(directory, stacks)
        return cls(directory=directory, stacks=_dependency_order(stacks))


def _collect_stacks(directory: Path, into: list[StackTemplate]) -> None:
    manifest = _read_json(directory / "manifest.json")
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        kind = artifact.get("type")
        properties = artifact.get("properties") or {}
        if kind == NESTED_ASSEMBLY and properties.get("directoryName"):
            _collect_stacks(directory / properties["directoryName"], into)
        elif kind == STACK_ARTIFACT:
            template_path = directory / properties.get("templateFile", f"{artifact_id}.template.json")
            into.append(
                StackTemplate(
                    name=properties.get("stackName") or artifact_id,
                    artifact_id=artifact_id,
                    template=_read_json(template_path),
                    template_path=template_path,
                    dependencies=tuple(artifact.get("dependencies") or ()),
                    manifest_paths=_logical_ids_by_path(artifact.get("metadata") or {}),
                )
            )


def _logical_ids_by_path(metadata: dict[str, Any]) -> dict[str, str]:
    paths: dict[str, str] = {}
    for construct_path, entries in metadata.items():
        for entry in entries or ():
            if (
                isinstance(entry, dict)
                and entry.get("type") == "aws:cdk:logicalId"
                and isinstance(entry.get("data"), str)
            ):
                paths[construct_path] = entry["data"]
    return paths


def _dependency_order(stacks: list[StackTemplate]) -> list[StackTemplate]:
    by_id = {stack.artifact_id: stack for stack in stacks}
    ordered: list[StackTemplate] = []
    visiting: set[str] = set()

    def visit(stack: StackTemplate) -> None:
        if stack.artifact_id in visiting:
            return
        visiting.add(stack.artifact_id)
        for dependency in stack.dependencies:
            if dependency in by_id:
                visit(by_id[dependency])
        ordered.append(stack)

    for stack in stacks:
        visit(stack)
    return ordered


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AssemblyError(f"missing {path}") from exc
    except json.JSONDecodeError as exc:
        raise AssemblyError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AssemblyError(f"{path} does not hold a JSON object")
    return data
