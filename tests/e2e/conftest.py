"""E2E tier: Playwright drives headless Chromium against the server `make dev` starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.browser import LAUNCH_ARGS, system_chromium
from tests.support.cloud import ROOT

TOKEN_LINE = re.compile(r"Session token\s+(nf_s_\S+)")


@dataclass(frozen=True)
class DevServer:
    url: str
    demo_token: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def dev_server() -> Iterator[DevServer]:
    port = _free_port()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "dev", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    token = None
    output: list[str] = []
    try:
        deadline = time.monotonic() + 180
        assert process.stdout is not None
        while token is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                if process.poll() is not None:
                    break
                continue
            output.append(line)
            match = TOKEN_LINE.search(line)
            if match:
                token = match.group(1)
        if token is None:
            pytest.fail("make dev did not print a demo token:\n" + "".join(output[-40:]))
        with urllib.request.urlopen(f"{url}/_local/health", timeout=10) as reply:
            assert reply.status == 200
        yield DevServer(url=url, demo_token=token)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = system_chromium()
    args = dict(browser_type_launch_args)
    if executable:
        args["executable_path"] = executable
    args["args"] = [*args.get("args", []), *LAUNCH_ARGS]
    return args
