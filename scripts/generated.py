"""Shared entry point for files generated from code (written, or checked for drift in CI)."""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable


def write_or_check(
    target: pathlib.Path, render: Callable[[], str], *, command: str, description: str | None, argv: list[str] | None
) -> int:
    """`--check` exits 1 when `target` differs from `render()`; otherwise (re)writes it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not target.exists() or target.read_text() != text:
            print(f"{target} is out of date: run {command}", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return 0
