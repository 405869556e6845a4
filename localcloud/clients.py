"""boto3 clients for the local cloud's own calls to the embedded moto."""

from __future__ import annotations

import threading
from typing import Any

from localcloud.intrinsics import REGION

FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}


class Clients:
    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def get(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is not None:
            return client
        # botocore sessions are not thread-safe; clients made from them are.
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                client = self._make(service)
                self._clients[service] = client
        return client

    def _make(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session(region_name=REGION, **FAKE_CREDENTIALS)
        config = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"total_max_attempts": 1},
            account_id_endpoint_mode="disabled",
        )
        return self._session.client(service, endpoint_url=self.endpoint_url, config=config)
