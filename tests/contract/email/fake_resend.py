"""A stand-in for Resend's HTTP API on 127.0.0.1, for contract tests of the Resend adapter.

Mimics what the resend SDK (2.52) and Resend's API reference show: bearer-key auth,
`POST /emails` answering `{"id": ...}`, `GET /emails/{id}` answering the email object, error
bodies shaped `{"statusCode", "message", "name"}`, and `Idempotency-Key` semantics (same key
and body: the first answer again; same key, other body: 409 `invalid_idempotent_request`;
a key longer than 256 characters: 400 `invalid_idempotency_key`).

Tests queue faults (a status, a delay, or an HTML page as a proxy would send) that the next
requests act out, whatever their path.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_RECIPIENTS = 50

_ERROR_NAMES = {
    400: "validation_error",
    401: "missing_api_key",
    403: "invalid_api_key",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_idempotent_request",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "internal_server_error",
    502: "internal_server_error",
    503: "internal_server_error",
}


@dataclass(frozen=True)
class Fault:
    status: int | None = None
    delay_seconds: float = 0.0
    html: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _State:
    api_key: str
    emails: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, str]] = field(default_factory=dict)
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API and the adapter's session do
    server: _Server
    timeout = 5

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output is for test results."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "authorization"},
                    body=body,
                )
            )
            fault = state.faults.popleft() if state.faults else None
        try:
            if fault is not None and self._act_out(fault):
                return
            self._route(body, raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before we answered

    def _act_out(self, fault: Fault) -> bool:
        """True if the fault answered the request."""
        if fault.delay_seconds and self.server.state.stopping.wait(fault.delay_seconds):
            self.close_connection = True
            return True
        if fault.status is None:
            return False
        if fault.html:
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send(fault.status, page, "text/html")
        else:
            self._error(fault.status, "Simulated failure.", _ERROR_NAMES.get(fault.status))
        return True

    def _route(self, body: Any, raw: bytes) -> None:
        state = self.server.state
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth == "Bearer None":
            self._error(401, "Missing API key in the authorization header.", "missing_api_key")
            return
        if auth != f"Bearer {state.api_key}":
            self._error(403, "API key is invalid.", "invalid_api_key")
            return
        if self.command == "POST" and self.path == "/emails":
            self._send_email(body, raw)
        elif self.command == "GET" and self.path.startswith("/emails/"):
            email = state.emails.get(self.path.removeprefix("/emails/"))
            if email is None:
                self._error(404, "Email not found", "not_found")
            else:
                self._json(200, email)
        else:
            self._error(404, "The requested endpoint does not exist.", "not_found")

    def _send_email(self, body: Any, raw: bytes) -> None:
        state = self.server.state
        key = self.headers.get("Idempotency-Key")
        if key is not None and not 1 <= len(key) <= 256:
            self._error(400, "The key must be between 1-256 chars.", "invalid_idempotency_key")
            return
        problem = _validation_problem(body)
        if problem is not None:
            self._error(422, *problem)
            return
        with state.lock:
            if key is not None and key in state.idempotency:
                first_id, first_body = state.idempotency[key]
                if first_body != raw.decode():
                    self._error(
                        409,
                        "Same idempotency key used with a different request payload.",
                        "invalid_idempotent_request",
                    )
                else:
                    self._json(200, {"id": first_id})
                return
            email_id = str(uuid.uuid4())
            state.emails[email_id] = _email_object(email_id, body)
            if key is not None:
                state.idempotency[key] = (email_id, raw.decode())
        self._json(200, {"id": email_id})

    def _error(self, status: int, message: str, name: str | None) -> None:
        self._json(
            status,
            {"statusCode": status, "message": message, "name": name or "application_error"},
        )

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


def _validation_problem(body: Any) -> tuple[str, str] | None:
    if not isinstance(body, dict):
        return "Invalid JSON body.", "validation_error"
    for required in ("from", "to", "subject"):
        if not body.get(required):
            return f"Missing `{required}` field.", "missing_required_field"
    if len(_as_list(body["to"]) or []) > MAX_RECIPIENTS:
        return "Too many recipients. Maximum is 50.", "validation_error"
    if not (body.get("html") or body.get("text")):
        return "Missing `html` or `text` field.", "missing_required_field"
    return None


def _email_object(email_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "email",
        "id": email_id,
        "to": _as_list(body["to"]),
        "from": body["from"],
        "created_at": datetime.now(UTC).isoformat(),
        "subject": body["subject"],
        "html": body.get("html"),
        "text": body.get("text"),
        "bcc": _as_list(body.get("bcc")) or [None],
        "cc": _as_list(body.get("cc")) or [None],
        "reply_to": _as_list(body.get("reply_to")) or [None],
        "last_event": "delivered",
        "tags": body.get("tags"),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class FakeResend:
    """`with FakeResend(api_key=...) as fake:` serves on `fake.url` until the block ends."""

    def __init__(self, api_key: str) -> None:
        self._state = _State(api_key=api_key)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self._state
        # A short poll interval keeps shutdown (once per test) from costing half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeResend:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def enqueue(self, fault: Fault) -> None:
        with self._state.lock:
            self._state.faults.append(fault)

    def pending_faults(self) -> int:
        with self._state.lock:
            return len(self._state.faults)

    @property
    def emails(self) -> dict[str, dict[str, Any]]:
        with self._state.lock:
            return dict(self._state.emails)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)
