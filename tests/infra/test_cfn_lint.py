"""cfn-lint over the synthesized templates, with the repo's .cfnlintrc.

cfn-lint lives in .venv (it needs botocore-era packages jsii's environment refuses), so it runs
as a subprocess; the tier skips this check when .venv has not been created.
"""

from __future__ import annotations

import subprocess

import pytest

from stacks.constants import REPO_ROOT
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

CFN_LINT = REPO_ROOT / ".venv" / "bin" / "cfn-lint"


@pytest.mark.skipif(not CFN_LINT.exists(), reason="cfn-lint is installed in .venv (make install)")
def test_templates_pass_cfn_lint(synthesized: Synthesized) -> None:
    templates = sorted(str(path) for path in synthesized.outdir.glob("*.template.json"))
    assert len(templates) == 4
    result = subprocess.run([str(CFN_LINT), *templates], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
