"""`python -m localcloud serve --cdk-out cdk.out --port 8000 [--seed module:function]`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def _seed_function(spec: str) -> Callable[[Any], Any]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"--seed wants module:function, got {spec!r}")
    function = getattr(importlib.import_module(module_name), attribute)
    if not callable(function):
        raise SystemExit(f"--seed {spec} is not callable")
    return function  # type: ignore[no-any-return]


def serve(arguments: argparse.Namespace) -> int:
    from localcloud.cloud import LocalCloud, endpoints_text
    from localcloud.template import AssemblyError

    port = int(os.environ.get("PORT") or arguments.port)
    cloud = LocalCloud(cdk_out=Path(arguments.cdk_out), port=port, host=arguments.host)
    try:
        cloud.start()
    except AssemblyError as exc:
        print(f"localcloud: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        if arguments.seed:
            _seed_function(arguments.seed)(cloud)
        print(endpoints_text(cloud), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        cloud.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description="Run cdk.out locally.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="start the local cloud and serve until interrupted")
    run.add_argument("--cdk-out", default="cdk.out", help="the cloud assembly folder (default: cdk.out)")
    run.add_argument("--port", type=int, default=8000, help="front door port (PORT overrides; 0 picks a free one)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--seed", help="module:function called with the LocalCloud once it is up")
    run.add_argument("--log-level", default=os.environ.get("LOCALCLOUD_LOG_LEVEL", "INFO"))
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=arguments.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return serve(arguments)


if __name__ == "__main__":
    sys.exit(main())
