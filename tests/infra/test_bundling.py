"""Local bundling, offline: layouts, unchecked-hash .pyc, and the pip command for the deps layer."""

from __future__ import annotations

import marshal
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import bundling
from stacks.bundling import (
    BundlingError,
    CoreLayerBundler,
    DepsLayerBundler,
    SystemCodeBundler,
    prune_runtime_provided,
    require_runtime_python,
)
from stacks.constants import DEPS_REQUIREMENTS, LAMBDA_PYTHON_VERSION

pytestmark = pytest.mark.infra

# PEP 552: bytes 4-8 of a .pyc are flags; bit 0 = hash-based, bit 1 = check the source.
UNCHECKED_HASH = 0b01


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def pyc_flags(path: Path) -> int:
    return int(struct.unpack("<I", path.read_bytes()[4:8])[0])


def pyc_source_path(path: Path) -> str:
    # The .pyc was just written by the bundler under test, not received from anywhere.
    return str(marshal.loads(path.read_bytes()[16:]).co_filename)  # noqa: S302


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    root = tmp_path / "src" / "functions"
    write(root / "__init__.py")
    write(root / "demo" / "__init__.py")
    write(root / "demo" / "handlers" / "__init__.py")
    write(root / "demo" / "handlers" / "api.py", "def handler(event, context):\n    return {'ok': True}\n")
    write(root / "demo" / "__pycache__" / "stale.cpython-311.pyc", "junk")
    write(root / "demo" / "tests" / "test_api.py", "assert False\n")
    write(root / "other" / "__init__.py")  # another system: must not be in demo's bundle
    return root


def test_system_code_is_laid_out_as_the_functions_package(functions_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()

    assert SystemCodeBundler("demo", functions_dir).try_bundle(str(out)) is True

    assert (out / "functions" / "__init__.py").exists()
    assert (out / "functions" / "demo" / "handlers" / "api.py").exists()
    assert not (out / "functions" / "other").exists()
    assert not (out / "functions" / "demo" / "tests").exists()
    assert not (out / "functions" / "demo" / "__pycache__" / "stale.cpython-311.pyc").exists()
    # The handler string imports from the bundle root, as Lambda does from /var/task.
    result = subprocess.run(
        [sys.executable, "-c", "import functions.demo.handlers.api as m; print(m.handler({}, None))"],
        cwd=out,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "{'ok': True}"


def test_system_code_pyc_are_unchecked_hash_and_point_at_var_task(functions_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    SystemCodeBundler("demo", functions_dir).try_bundle(str(out))

    tag = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")
    pyc = out / "functions" / "demo" / "handlers" / "__pycache__" / f"api.{tag}.pyc"
    assert pyc.exists()
    assert pyc_flags(pyc) == UNCHECKED_HASH
    assert pyc_source_path(pyc) == "/var/task/functions/demo/handlers/api.py"
    every_pyc = list(out.rglob("*.pyc"))
    assert len(every_pyc) == len(list(out.rglob("*.py")))
    assert {pyc_flags(p) for p in every_pyc} == {UNCHECKED_HASH}


def test_core_layer_lands_under_python_with_unchecked_hash_pyc(tmp_path: Path) -> None:
    layer = tmp_path / "layers" / "core"
    write(layer / "python" / "ninefold_core" / "__init__.py", "VERSION = 1\n")
    write(layer / "python" / "ninefold_core" / "events" / "__init__.py")
    write(layer / "python" / "ninefold_core" / "tests" / "test_x.py")
    out = tmp_path / "out"
    out.mkdir()

    assert CoreLayerBundler(layer).try_bundle(str(out)) is True

    assert (out / "python" / "ninefold_core" / "events" / "__init__.py").exists()
    assert not (out / "python" / "ninefold_core" / "tests").exists()
    pycs = list((out / "python").rglob("*.pyc"))
    assert len(pycs) == 2
    assert {pyc_flags(p) for p in pycs} == {UNCHECKED_HASH}
    assert all(pyc_source_path(p).startswith("/opt/python/ninefold_core/") for p in pycs)


def test_deps_layer_pip_command_targets_arm64_cpython_311_wheels_only(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    command = DepsLayerBundler(requirements).pip_command(tmp_path / "out")

    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    joined = " ".join(command)
    for expected in (
        f"--target {tmp_path / 'out' / 'python'}",
        "--platform manylinux2014_aarch64 --platform manylinux_2_26_aarch64",
        "--only-binary=:all:",
        "--implementation cp",
        f"--python-version {LAMBDA_PYTHON_VERSION}",
        "--no-compile",
        "--no-deps",
        f"-r {requirements}",
    ):
        assert expected in joined


def test_deps_layer_reads_the_repo_requirements_by_default() -> None:
    assert DepsLayerBundler().requirements == DEPS_REQUIREMENTS


def test_deps_layer_build_installs_then_prunes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole recipe with pip faked: no network in tests."""
    calls: list[list[str]] = []
    real_run = subprocess.run

    def fake_run(command: list[str], check: bool) -> None:
        calls.append(command)
        if "pip" in command:
            site = Path(command[command.index("--target") + 1])
            write(site / "boto3" / "__init__.py")
            write(site / "pydantic" / "__init__.py")
        else:
            real_run(command, check=check)

    monkeypatch.setattr(bundling.subprocess, "run", fake_run)
    out = tmp_path / "out"
    out.mkdir()

    DepsLayerBundler(tmp_path / "requirements.txt").try_bundle(str(out))

    assert [c[2] for c in calls] == ["pip", "compileall"]
    assert not (out / "python" / "boto3").exists()
    assert pyc_flags(next((out / "python" / "pydantic").rglob("*.pyc"))) == UNCHECKED_HASH


def test_runtime_provided_packages_tests_and_scripts_are_pruned(tmp_path: Path) -> None:
    site = tmp_path / "python"
    for path in (
        "boto3/__init__.py",
        "botocore/__init__.py",
        "botocore-1.44.8.dist-info/METADATA",
        "s3transfer/__init__.py",
        "pydantic/__init__.py",
        "pydantic-2.14.4.dist-info/METADATA",
        "somepkg/tests/test_x.py",
        "somepkg/sub/tests/test_y.py",
        "bin/normalizer",
    ):
        write(site / path)

    prune_runtime_provided(site)

    assert sorted(p.name for p in site.iterdir()) == ["pydantic", "pydantic-2.14.4.dist-info", "somepkg"]
    assert not list(site.rglob("tests"))


def test_bundling_refuses_a_python_other_than_the_runtimes() -> None:
    require_runtime_python((3, 11))
    with pytest.raises(BundlingError, match=r"Python 3\.11 .* is Python 3\.12"):
        require_runtime_python((3, 12))


def test_fingerprints_follow_the_recipe_not_the_checkout_location(tmp_path: Path) -> None:
    assert SystemCodeBundler("a").fingerprint() != SystemCodeBundler("b").fingerprint()
    assert SystemCodeBundler("a", tmp_path).fingerprint() == SystemCodeBundler("a").fingerprint()
    assert DepsLayerBundler(tmp_path / "x").fingerprint() == DepsLayerBundler().fingerprint()
    assert DepsLayerBundler().fingerprint() != CoreLayerBundler().fingerprint()
    options = CoreLayerBundler().options()
    assert options.environment == {"NINEFOLD_BUNDLE_RECIPE": CoreLayerBundler().fingerprint()}
