"""AWS clients, created on first use and reused while the process lives.

Nothing builds a client at import time: that would cost every cold start
(~100 ms for the first `client()`), including code paths that never call AWS.
Clients are keyed by service, region and endpoint so that the local cloud (which
points `AWS_ENDPOINT_URL` at its embedded moto) and the cloud share one code path.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_clients: dict[tuple[str, str | None, str | None], Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    key = (service, region, endpoint)
    found = _clients.get(key)
    if found is not None:
        return found
    with _lock:
        found = _clients.get(key)
        if found is None:
            import boto3  # heavy: only when a client is first needed
            from botocore.config import Config

            config = Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"max_attempts": 3, "mode": "standard"},
            )
            found = boto3.session.Session().client(service, region_name=region, config=config)
            _clients[key] = found
    return found


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints)."""
    with _lock:
        _clients.clear()
