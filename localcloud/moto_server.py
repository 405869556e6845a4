"""The embedded moto server: started on a free loopback port, configured over its API."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


class MotoServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._server: Any = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # The ASL interpreter logs every failed state at ERROR with its whole parse tree, including
        # failures a Retry or Catch handles; the execution history has them.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)
        from localcloud.moto_hooks import defer_batch_package

        defer_batch_package()
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        # The Step Functions interpreter calls other services at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self.reset()
        self.configure(MOTO_CONFIG)

    def configure(self, config: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._post("/moto-api/config", config)
        return result

    def reset(self) -> None:
        """Drop every backend's state (a previous LocalCloud in this process)."""
        self._post("/moto-api/reset", None)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _post(self, path: str, body: dict[str, Any] | None) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.url + path, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        # No proxy: the server is on loopback whatever HTTP_PROXY says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            text = response.read().decode() or "null"
        try:
            return json.loads(text)
        except ValueError:
            return text
