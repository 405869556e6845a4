"""Root of every test tier. Kept import-light: the infra tier runs in the CDK
virtual environment, which has neither boto3 nor pydantic."""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test belongs to exactly one tier, chosen by its folder, so that
    # `-m unit` and friends select reliably and nothing runs untiered.
    tiers = {"unit", "contract", "integration", "infra", "e2e"}
    for item in items:
        parts = pathlib.Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        tier = parts[0] if parts else ""
        if tier in tiers and not any(item.iter_markers(name=tier)):
            item.add_marker(getattr(pytest.mark, tier))
