"""layers/deps/requirements.txt: the complete, pinned closure of requirements/lambda.in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacks.bundling import RUNTIME_PROVIDED
from stacks.constants import DEPS_REQUIREMENTS, REPO_ROOT

pytestmark = pytest.mark.infra

LAMBDA_IN = REPO_ROOT / "requirements" / "lambda.in"
# Provided by the python3.11 Lambda runtime (boto3 and what it needs).
PROVIDED_BY_RUNTIME = {*RUNTIME_PROVIDED, "jmespath", "python-dateutil", "urllib3", "six"}
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]+\])?==(?P<version>[^\s;]+)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in requirement_lines(path):
        match = _PIN.match(line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        found[canonical(match["name"])] = match["version"]
    return found


def test_every_dependency_is_pinned_exactly() -> None:
    assert pins(DEPS_REQUIREMENTS)


def test_nothing_the_runtime_provides_is_bundled() -> None:
    assert not set(pins(DEPS_REQUIREMENTS)) & {canonical(n) for n in PROVIDED_BY_RUNTIME}


@pytest.mark.skipif(not LAMBDA_IN.exists(), reason="requirements/lambda.in not present")
def test_every_lambda_requirement_is_in_the_layer_at_a_matching_version() -> None:
    layer = pins(DEPS_REQUIREMENTS)
    for line in requirement_lines(LAMBDA_IN):
        match = re.match(r"^(?P<name>[A-Za-z0-9._-]+)(?:\[[^\]]+\])?(?:==(?P<spec>\S+))?", line)
        assert match, line
        name = canonical(match["name"])
        assert name in layer, f"{name} is in requirements/lambda.in but not in the deps layer"
        spec = match["spec"]
        if spec:
            pattern = re.escape(spec).replace(r"\*", ".*")
            assert re.fullmatch(pattern, layer[name]), f"{name}: layer has {layer[name]}, lambda.in wants {spec}"
