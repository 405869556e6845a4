"""Lambda assets built on this machine instead of in Docker (there is no Docker daemon here).

Three recipes, all ending with `.pyc` compiled by the runtime's Python version in
`unchecked-hash` mode: the CDK zips assets with 1980 timestamps, so timestamp-checked `.pyc`
look stale and Lambda's read-only disk makes Python recompile on every cold start
(measured: ~1.4 s instead of ~0.47 s to import the full dependency set).

`make synth` / the infra tests skip bundling (`aws:cdk:bundling-stacks=[]`), so none of this
runs offline; `make deploy` runs it for real.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from stacks.constants import (
    CORE_LAYER_DIR,
    DEPS_LAYER_DIR,
    DEPS_REQUIREMENTS,
    FUNCTIONS_DIR,
    FUNCTIONS_PACKAGE,
    LAMBDA_PYTHON_VERSION,
)

# The Lambda Python runtime bundles these; shipping our own copies would shadow the runtime's
# and bloat the layer.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Source we never ship. Tests live under tests/, but a stray one inside a package must not land.
SOURCE_IGNORE = ("__pycache__", "*.pyc", "tests", "test_*.py", "conftest.py")
# Lambda python3.11 runs on Amazon Linux 2 (glibc 2.26): manylinux2014 (glibc 2.17) wheels and the
# newer manylinux_2_26 ones (argon2-cffi-bindings publishes only those for aarch64) both load there.
PIP_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_26_aarch64")

# Where the code lives inside Lambda, so tracebacks show real paths instead of the bundling
# temp dir (compileall bakes the path into each .pyc).
TASK_ROOT = "/var/task"
LAYER_ROOT = "/opt"


class BundlingError(RuntimeError):
    pass


def require_runtime_python(version: tuple[int, ...] = tuple(sys.version_info[:2])) -> None:
    """`.pyc` are only valid for the minor version that wrote them: refuse to write wrong ones."""
    found = ".".join(str(part) for part in version[:2])
    if found != LAMBDA_PYTHON_VERSION:
        raise BundlingError(
            f"Bundling must run on Python {LAMBDA_PYTHON_VERSION} (the Lambda runtime) so the "
            f"shipped .pyc load without recompiling; {sys.executable} is Python {found}. "
            "Run the CDK app with the .venv-cdk interpreter, or skip bundling with "
            """CDK_CONTEXT_JSON='{"aws:cdk:bundling-stacks": []}'."""
        )


def compile_command(out: Path, *, runtime_root: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(out),
        "-p",
        runtime_root,
        str(out),
    ]


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*SOURCE_IGNORE), dirs_exist_ok=True)


@jsii.implements(cdk.ILocalBundling)
class LocalBundler:
    """Base for the recipes: build into `output_dir`, then compile.

    `try_bundle` always returns True (or raises) so the CDK never falls back to Docker.
    """

    # Bump when a recipe changes in a way its inputs don't show, to change the asset hash.
    recipe_version: ClassVar[int] = 1
    runtime_root: ClassVar[str] = LAYER_ROOT

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions | None = None) -> bool:
        require_runtime_python()
        out = Path(output_dir)
        self.build(out)
        subprocess.run(compile_command(out, runtime_root=self.runtime_root), check=True)
        return True

    def build(self, out: Path) -> None:
        raise NotImplementedError

    def recipe(self) -> Sequence[str]:
        """What, besides the asset's source files, decides the output."""
        return (type(self).__name__, str(self.recipe_version), LAMBDA_PYTHON_VERSION)

    def fingerprint(self) -> str:
        return hashlib.sha256("\0".join(self.recipe()).encode()).hexdigest()[:16]

    def options(self) -> cdk.BundlingOptions:
        return cdk.BundlingOptions(
            # Required by the API; never pulled because try_bundle never declines.
            image=cdk.DockerImage.from_registry("scratch"),
            local=self,
            output_type=cdk.BundlingOutput.NOT_ARCHIVED,
            # The CDK hashes the bundling options into the asset hash but cannot see inside a
            # Python bundler; the fingerprint makes a recipe change produce a new asset.
            environment={"NINEFOLD_BUNDLE_RECIPE": self.fingerprint()},
        )


class SystemCodeBundler(LocalBundler):
    """`functions/<system>/**` -> `<out>/functions/__init__.py` + `<out>/functions/<system>/**`.

    The handler `functions.<system>.handlers.<module>.handler` then imports the same module
    path in Lambda as in the tests, without path hacks.
    """

    runtime_root = TASK_ROOT

    def __init__(self, system: str, functions_dir: Path = FUNCTIONS_DIR) -> None:
        self.system = system
        self.functions_dir = functions_dir

    def build(self, out: Path) -> None:
        package = out / FUNCTIONS_PACKAGE
        package.mkdir(parents=True, exist_ok=True)
        init = self.functions_dir / "__init__.py"
        if init.exists():
            shutil.copy2(init, package / "__init__.py")
        else:
            (package / "__init__.py").touch()
        _copy_tree(self.functions_dir / self.system, package / self.system)

    def recipe(self) -> Sequence[str]:
        return (*super().recipe(), self.system)


class CoreLayerBundler(LocalBundler):
    """`layers/core/python/**` -> `<out>/python/**` (Lambda puts `/opt/python` on sys.path)."""

    def __init__(self, layer_dir: Path = CORE_LAYER_DIR) -> None:
        self.layer_dir = layer_dir

    def build(self, out: Path) -> None:
        _copy_tree(self.layer_dir / "python", out / "python")


class DepsLayerBundler(LocalBundler):
    """Pinned third-party wheels for arm64 / CPython 3.11, fetched by pip on this x86_64 host."""

    def __init__(self, requirements: Path = DEPS_REQUIREMENTS) -> None:
        self.requirements = requirements

    @staticmethod
    def pip_options() -> list[str]:
        """The part of the pip command that decides what gets installed."""
        return [
            *(option for platform in PIP_PLATFORMS for option in ("--platform", platform)),
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--no-compile",
            # requirements.txt is the complete pinned closure minus what the runtime provides;
            # resolving would pull botocore, urllib3, dateutil... back in and shadow the runtime's.
            "--no-deps",
        ]

    def pip_command(self, out: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            "--target",
            str(out / "python"),
            *self.pip_options(),
            "-r",
            str(self.requirements),
        ]

    def build(self, out: Path) -> None:
        subprocess.run(self.pip_command(out), check=True)
        prune_runtime_provided(out / "python")

    def recipe(self) -> Sequence[str]:
        # No paths: the asset hash must not depend on where the repo is checked out.
        return (*super().recipe(), *self.pip_options())


def prune_runtime_provided(site: Path) -> None:
    for name in RUNTIME_PROVIDED:
        for path in [site / name, *site.glob(f"{name}-*.dist-info")]:
            shutil.rmtree(path, ignore_errors=True)
    # Console scripts: nothing runs them in Lambda, and their shebangs name this host's Python.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for tests in list(site.glob("**/tests")):
        if tests.is_dir():  # a parent `tests` removed earlier took this one with it
            shutil.rmtree(tests, ignore_errors=True)


# One bundler instance per recipe for the whole process: the CDK caches staged assets by their
# bundling options, so every system stack that shares the layers reuses one bundle.
_CORE = CoreLayerBundler()
_DEPS = DepsLayerBundler()

ASSET_EXCLUDE = ["**/__pycache__", "**/*.pyc", "**/tests"]


def system_code(system: str) -> lambda_.Code:
    # Fresh Code per call: an AssetCode binds to the first stack that uses it.
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR / system),
        bundling=SystemCodeBundler(system).options(),
        exclude=ASSET_EXCLUDE,
    )


def core_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(CORE_LAYER_DIR), bundling=_CORE.options(), exclude=ASSET_EXCLUDE)


def deps_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(DEPS_LAYER_DIR), bundling=_DEPS.options(), exclude=ASSET_EXCLUDE)
