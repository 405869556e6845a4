"""The workflows table has more indexes than the default test table (functions/workflows/dal/runs.py)."""

from __future__ import annotations

import pytest

from ninefold_core.jobs.store import INDEXES
from tests.unit.conftest import create_table


@pytest.fixture
def table(mocked_aws: None) -> str:
    create_table("ninefold-test-table", gsis=INDEXES, stream=True)
    return "ninefold-test-table"
