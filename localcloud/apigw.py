"""HTTP API (API Gateway v2) semantics: route selection, payload 2.0 events, response mapping.

Pure functions and small data classes; the server lives in `http.py`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from localcloud.intrinsics import ACCOUNT_ID

TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
)


@dataclass
class HttpRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None

    @property
    def path(self) -> str:
        return urllib.parse.unquote(self.raw_path)


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, value: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        return cls(status, [("Content-Type", "application/json"), *headers], json.dumps(value).encode())


NOT_FOUND = {"message": "Not Found"}
FORBIDDEN = {"message": "Forbidden"}
UNAUTHORIZED = {"message": "Unauthorized"}
INTERNAL_ERROR = {"message": "Internal Server Error"}


@dataclass
class HttpApiSpec:
    key: str
    logical_id: str
    stack: str
    cdk_path: str | None
    id: str
    name: str
    stage: str = "$default"
    cors: dict[str, Any] | None = None


@dataclass
class IntegrationSpec:
    id: str
    logical_id: str
    type: str
    function: str | None  # registry key when it targets a Lambda function
    uri: str
    payload_version: str = "2.0"


@dataclass
class AuthorizerSpec:
    id: str
    logical_id: str
    name: str
    type: str  # REQUEST | JWT
    function: str | None
    identity_sources: list[str]
    ttl: int = 0
    simple_responses: bool = False
    payload_version: str = "2.0"
    issuer: str | None = None
    audience: list[str] = field(default_factory=list)


@dataclass
class RouteSpec:
    api: HttpApiSpec
    logical_id: str
    stack: str
    cdk_path: str | None
    route_key: str
    integration: IntegrationSpec | None
    authorizer: AuthorizerSpec | None
    authorization_type: str = "NONE"
    scopes: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return "ANY" if self.route_key == "$default" else self.route_key.split(" ", 1)[0].upper()

    @property
    def path(self) -> str | None:
        return None if self.route_key == "$default" else self.route_key.split(" ", 1)[1]


# -- route selection ---------------------------------------------------------------------

LITERAL, VARIABLE, GREEDY = 0, 1, 2


def _segments(path: str) -> list[str]:
    stripped = path.strip("/")
    return stripped.split("/") if stripped else []


def _kind(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return GREEDY
    if segment.startswith("{") and segment.endswith("}"):
        return VARIABLE
    return LITERAL


def match_path(route_path: str, request_path: str) -> dict[str, str] | None:
    """Path parameters if `request_path` fits `route_path`, else None."""
    pattern, actual = _segments(route_path), _segments(request_path)
    params: dict[str, str] = {}
    for index, segment in enumerate(pattern):
        kind = _kind(segment)
        if kind == GREEDY:
            rest = actual[index:]
            if not rest:
                return None
            params[segment[1:-2]] = "/".join(rest)
            return params
        if index >= len(actual):
            return None
        if kind == VARIABLE:
            if not actual[index]:
                return None
            params[segment[1:-1]] = actual[index]
        elif segment != actual[index]:
            return None
    return params if len(actual) == len(pattern) else None


def route_priority(route: RouteSpec) -> tuple[tuple[int, ...], int]:
    """Lower sorts first: literal segments beat variables beat greedy, left to right;
    then a route with an explicit method beats ANY."""
    path = route.path or ""
    return tuple(_kind(segment) for segment in _segments(path)), 1 if route.method == "ANY" else 0


class RouteTable:
    def __init__(self, routes: list[RouteSpec]) -> None:
        self.routes = routes
        self._ordered = sorted((r for r in routes if r.route_key != "$default"), key=route_priority)
        self.defaults = [r for r in routes if r.route_key == "$default"]

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for route in self._ordered:
            if route.method not in ("ANY", method.upper()):
                continue
            params = match_path(route.path or "", path)
            if params is not None:
                return route, params
        return None

    def default(self) -> RouteSpec | None:
        return self.defaults[0] if self.defaults else None

    def path_exists(self, path: str) -> bool:
        return any(match_path(r.path or "", path) is not None for r in self._ordered)


# -- payload format 2.0 ------------------------------------------------------------------


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return True
    lowered = content_type.lower()
    return lowered.startswith(TEXT_TYPES) or "+json" in lowered or "+xml" in lowered


def request_time(epoch: float) -> tuple[str, int]:
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000"), int(epoch * 1000)


def http_event(
    request: HttpRequest,
    *,
    route_key: str,
    raw_path: str,
    path_parameters: dict[str, str] | None,
    api_id: str,
    stage: str,
    request_id: str,
    now: float,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (and function URL) payload format 2.0 event."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[lowered] = f"{headers[lowered]},{value}" if lowered in headers else value
    query: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    host = request.header("host") or "localhost"
    time_text, epoch_ms = request_time(now)
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".")[0].split(":")[0],
        "http": {
            "method": request.method.upper(),
            "path": urllib.parse.unquote(raw_path),
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": time_text,
        "timeEpoch": epoch_ms,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        if is_text(request.header("content-type")):
            event["body"] = request.body.decode("utf-8", errors="replace")
            event["isBase64Encoded"] = False
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def lambda_response(payload: Any) -> HttpResponse:
    """Map a function's return value to HTTP as payload format 2.0 does (incl. its inference rules)."""
    if isinstance(payload, dict) and "statusCode" in payload:
        return _structured_response(payload)
    return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(payload).encode())


def _structured_response(payload: dict[str, Any]) -> HttpResponse:
    try:
        status = int(payload["statusCode"])
    except (TypeError, ValueError):
        return HttpResponse.json(500, INTERNAL_ERROR)
    headers: list[tuple[str, str]] = []
    for name, value in (payload.get("headers") or {}).items():
        headers.append((str(name), _header_text(value)))
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), _header_text(value)))
    for cookie in payload.get("cookies") or []:
        headers.append(("Set-Cookie", str(cookie)))
    raw_body = payload.get("body")
    if raw_body is None:
        body = b""
    elif payload.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(raw_body))
        except ValueError:
            return HttpResponse.json(500, INTERNAL_ERROR)
    else:
        body = (raw_body if isinstance(raw_body, str) else json.dumps(raw_body)).encode()
    return HttpResponse(status, headers, body)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- authorizers --------------------------------------------------------------------------


def identity_values(sources: list[str], request: HttpRequest, path_parameters: dict[str, str]) -> list[str] | None:
    """The identity source values, or None if any is missing (API Gateway answers 401)."""
    query = dict(urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True))
    cookies = dict(part.strip().split("=", 1) for part in (request.header("cookie") or "").split(";") if "=" in part)
    values: list[str] = []
    for source in sources:
        value: str | None = None
        if source.startswith("$request.header."):
            value = request.header(source.removeprefix("$request.header."))
        elif source.startswith("$request.querystring."):
            value = query.get(source.removeprefix("$request.querystring."))
        elif source.startswith("$request.path."):
            value = path_parameters.get(source.removeprefix("$request.path."))
        elif source.startswith("$request.cookie."):
            value = cookies.get(source.removeprefix("$request.cookie."))
        elif source.startswith(("$context.", "$stageVariables.")):
            value = source  # always present locally
        if value is None or value == "":
            return None
        values.append(value)
    return values


def authorizer_decision(payload: Any, simple: bool) -> tuple[bool, dict[str, Any]]:
    """(allowed, context) from a Lambda authorizer's response."""
    if not isinstance(payload, dict):
        return False, {}
    context = payload.get("context") or {}
    if simple and "isAuthorized" in payload:
        return payload.get("isAuthorized") is True, context
    statements = ((payload.get("policyDocument") or {}).get("Statement")) or []
    if isinstance(statements, dict):
        statements = [statements]
    effects = {str(s.get("Effect", "")).lower() for s in statements if isinstance(s, dict)}
    allowed = "allow" in effects and "deny" not in effects
    if payload.get("principalId") is not None:
        context = {**context, "principalId": payload["principalId"]}
    return allowed, context


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The unverified claims of a JWT (signatures are not checked locally)."""
    parts = token.removeprefix("Bearer ").removeprefix("bearer ").strip().split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def jwt_decision(authorizer: AuthorizerSpec, token: str, now: float) -> tuple[int, dict[str, Any]]:
    """(status, authorizer context): 200 when the token's issuer, audience and expiry fit."""
    claims = jwt_claims(token)
    if claims is None:
        return 401, {}
    if authorizer.issuer and claims.get("iss") != authorizer.issuer:
        return 401, {}
    audiences = claims.get("aud")
    audience_list = audiences if isinstance(audiences, list) else [audiences, claims.get("client_id")]
    if authorizer.audience and not set(authorizer.audience) & {a for a in audience_list if a}:
        return 401, {}
    if isinstance(claims.get("exp"), int | float) and claims["exp"] < now:
        return 401, {}
    scopes = str(claims.get("scope", "")).split() or None
    return 200, {"jwt": {"claims": {k: _claim_text(v) for k, v in claims.items()}, "scopes": scopes}}


def _claim_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)
