"""Email through Resend, on the official `resend` SDK.

The SDK is imported on first use, not with this module: it costs ~170 ms of cold start and
only the functions that actually send email should pay it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Final, cast

from ninefold_core.ports import (
    Classifier,
    DeliveredEmail,
    EmailMessage,
    EmailSender,
    Guard,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    SentEmail,
    SentEmailLookup,
    error_for_status,
    exception_chain,
)

if TYPE_CHECKING:
    from types import ModuleType

    import resend as resend_sdk

DEFAULT_API_URL: Final[str] = "https://api.resend.com"

# Error types Resend answers with a 4xx although trying again later can succeed.
_RETRYABLE_ERROR_TYPES: Final[frozenset[str]] = frozenset({"concurrent_idempotent_requests"})

# The SDK keeps its key, base URL and HTTP client in module globals (and reads
# RESEND_API_URL only at import). Each call swaps this sender's values in under one lock
# and restores the previous ones, so two senders in one process (tests, two accounts) never
# see each other's key. A Lambda instance serves one request at a time: the lock never waits.
_sdk_lock = threading.Lock()


def classify_resend_error(exc: BaseException, *, provider: str) -> ProviderError | None:
    """Resend SDK and transport exceptions, by type and status, never by message text."""
    import requests
    from resend.exceptions import NoContentError, ResendError

    # The SDK wraps every transport failure in a ResendError(code=500, "HttpClientError");
    # the requests exception underneath still says whether it was a timeout.
    for link in exception_chain(exc):
        if isinstance(link, requests.Timeout):
            return ProviderTimeout(provider, "no response within the timeout")
        if isinstance(link, requests.RequestException):
            return ProviderUnavailable(provider, "transport failed", code=type(link).__name__)
    if isinstance(exc, ResendError):
        status = int(exc.code) if str(exc.code).isdigit() else 500
        if exc.error_type in _RETRYABLE_ERROR_TYPES:
            return ProviderUnavailable(provider, "try again later", status=status, code=exc.error_type)
        return error_for_status(provider, status, code=exc.error_type, detail=exc.message)
    if isinstance(exc, NoContentError):
        return ProviderUnavailable(provider, "empty response")
    return None


def _http_client(timeout: float) -> resend_sdk.HTTPClient:
    """resend's HTTP client contract on a kept-alive `requests.Session`.

    The SDK's own client opens a new connection per call (one TLS handshake each time) and
    takes a whole-second timeout; this one reuses connections across warm invocations and
    applies the guard's budget to connecting and to each read. A server that trickles bytes
    can still take longer in total; the Lambda timeout is the backstop for that.
    """
    import requests
    from resend.http_client import HTTPClient

    class SessionHTTPClient(HTTPClient):
        def __init__(self) -> None:
            self._session = requests.Session()

        def request(
            self,
            method: str,
            url: str,
            headers: Mapping[str, str],
            json: dict[str, object] | list[object] | None = None,
            files: dict[str, Any] | None = None,
            data: dict[str, str] | None = None,
        ) -> tuple[bytes, int, Mapping[str, str]]:
            response = self._session.request(
                method=method,
                url=url,
                headers=dict(headers),
                json=cast(Any, json) if data is None and files is None else None,
                data=data,
                files=files,
                timeout=(timeout, timeout),
            )
            return response.content, response.status_code, response.headers

    return SessionHTTPClient()


def _addresses(value: object) -> list[str]:
    # Resend returns a list, a bare string, or [None] for an empty field.
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if item]


class ResendEmailSender(EmailSender, SentEmailLookup):
    """`api_key` comes from Secrets Manager at runtime; `api_url` is for tests and for a
    regional or proxied endpoint."""

    provider = "resend"

    def __init__(self, *, api_key: str, guard: Guard, api_url: str = DEFAULT_API_URL) -> None:
        if not api_key:
            raise ValueError("a Resend API key is required")
        super().__init__(guard=guard)
        self._api_key = api_key
        self._api_url = api_url.rstrip("/")
        self._http: resend_sdk.HTTPClient | None = None

    def __repr__(self) -> str:
        return f"ResendEmailSender(api_url={self._api_url!r}, api_key=<redacted>)"

    def classifier(self) -> Classifier:
        return partial(classify_resend_error, provider=self.guard.provider)

    @contextmanager
    def _sdk(self) -> Iterator[ModuleType]:
        import resend

        with _sdk_lock:
            if self._http is None:
                self._http = _http_client(self.guard.timeout)
            saved = (resend.api_key, resend.api_url, resend.default_http_client)
            resend.api_key, resend.api_url, resend.default_http_client = (
                self._api_key,
                self._api_url,
                self._http,
            )
            try:
                yield resend
            finally:
                resend.api_key, resend.api_url, resend.default_http_client = saved

    def _deliver(self, message: EmailMessage) -> SentEmail:
        with self._sdk() as resend:
            params: resend_sdk.Emails.SendParams = {
                "from": message.from_,
                "to": list(message.to),
                "subject": message.subject,
            }
            if message.html is not None:
                params["html"] = message.html
            if message.text is not None:
                params["text"] = message.text
            if message.reply_to:
                params["reply_to"] = list(message.reply_to)
            if message.tags:
                params["tags"] = [{"name": k, "value": v} for k, v in message.tags.items()]
            options: resend_sdk.Emails.SendOptions | None = (
                {"idempotency_key": message.idempotency_key} if message.idempotency_key else None
            )
            response = resend.Emails.send(params, options)
        return SentEmail(provider_message_id=response["id"])

    def fetch_sent(self, provider_message_id: str) -> DeliveredEmail | None:
        def lookup() -> DeliveredEmail | None:
            with self._sdk() as resend:
                try:
                    email = resend.Emails.get(provider_message_id)
                except resend.exceptions.ResendError as exc:
                    if str(exc.code) == "404":
                        return None
                    raise
            return DeliveredEmail(
                provider_message_id=email["id"],
                to=_addresses(email["to"]),
                from_=email["from"],
                subject=email["subject"],
                html=email.get("html"),
                text=email.get("text"),
                reply_to=_addresses(email.get("reply_to")),
            )

        return self.guard.call(lookup, classify=self.classifier())
