"""The front door: one loopback HTTP server for API routes, function URLs, static sites and `/_local`.

Order of precedence for a request path:
1. `/_local/...` (the local cloud's own API) and `/_lambda/<FunctionLogicalId>/...` (function URLs);
2. a site entry that is a single file at exactly this path (e.g. `/api/openapi.json`);
3. the templates' HTTP API routes (most specific first, explicit method before ANY);
4. static sites (longest path prefix; SPA fallback);
5. an API's `$default` route;
6. 404 `{"message": "Not Found"}`.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from localcloud import apigw
from localcloud.apigw import HttpRequest, HttpResponse, RouteSpec, RouteTable
from localcloud.clock import WarpClock
from localcloud.lambdas import LambdaRegistry
from localcloud.sites import Sites, content_type

log = logging.getLogger("localcloud.http")


@dataclass
class FunctionUrlSpec:
    logical_id: str  # the AWS::Lambda::Url resource
    stack: str
    cdk_path: str | None
    function: str  # registry key
    function_logical_id: str
    auth_type: str
    url: str
    url_id: str
    cors: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "cdk_path": self.cdk_path,
            "function": self.function,
            "function_logical_id": self.function_logical_id,
            "auth_type": self.auth_type,
            "url": self.url,
        }


LocalApi = Callable[[HttpRequest, str], HttpResponse | None]


class FrontDoorApp:
    def __init__(
        self,
        lambdas: LambdaRegistry,
        clock: WarpClock,
        routes: RouteTable,
        function_urls: dict[str, FunctionUrlSpec],
        sites: Sites,
        local_api: LocalApi,
    ) -> None:
        self.lambdas = lambdas
        self.clock = clock
        self.routes = routes
        self.function_urls = function_urls
        self.sites = sites
        self.local_api = local_api
        self._auth_cache: dict[tuple[str, tuple[str, ...]], tuple[float, bool, dict[str, Any]]] = {}
        self._auth_lock = threading.Lock()

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith("/_local/"):
            return self.local_api(request, path) or HttpResponse.json(404, apigw.NOT_FOUND)
        if path.startswith("/_lambda/"):
            return self._function_url(request)
        exact = self.sites.exact_file(path)
        if exact is not None:
            return _file_response(exact, request.method)
        cors = self._preflight(request)
        if cors is not None:
            return cors
        matched = self.routes.match(request.method, path)
        if matched is not None:
            return self._with_cors(request, matched[0], self._route(request, matched[0], matched[1]))
        if request.method in ("GET", "HEAD"):
            static = self.sites.resolve(path)
            if static is not None:
                return _file_response(static, request.method)
        default = self.routes.default()
        if default is not None:
            return self._with_cors(request, default, self._route(request, default, {}))
        return HttpResponse.json(404, apigw.NOT_FOUND)

    # -- API routes -----------------------------------------------------------------

    def _route(self, request: HttpRequest, route: RouteSpec, params: dict[str, str]) -> HttpResponse:
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer is not None:
            denial, authorizer_context = self._authorize(request, route, params)
            if denial is not None:
                return denial
        integration = route.integration
        if integration is None or integration.function is None:
            return HttpResponse.json(500, apigw.INTERNAL_ERROR)
        event = apigw.http_event(
            request,
            route_key=route.route_key,
            raw_path=request.raw_path,
            path_parameters=params,
            api_id=route.api.id,
            stage=route.api.stage,
            request_id=_request_id(),
            now=self.clock.now(),
            authorizer=authorizer_context,
        )
        result = self.lambdas.invoke(integration.function, event, source=f"http:{route.route_key}")
        if not result.ok:
            return HttpResponse.json(500, apigw.INTERNAL_ERROR)
        return apigw.lambda_response(result.payload)

    def _authorize(
        self, request: HttpRequest, route: RouteSpec, params: dict[str, str]
    ) -> tuple[HttpResponse | None, dict[str, Any] | None]:
        authorizer = route.authorizer
        assert authorizer is not None
        if authorizer.type == "JWT":
            token = request.header((authorizer.identity_sources or ["$request.header.Authorization"])[0].split(".")[-1])
            if not token:
                return HttpResponse.json(401, apigw.UNAUTHORIZED), None
            status, context = apigw.jwt_decision(authorizer, token, self.clock.now())
            if status != 200:
                return HttpResponse.json(status, apigw.UNAUTHORIZED), None
            token_scopes = set(context["jwt"]["scopes"] or [])
            if route.scopes and not token_scopes & set(route.scopes):
                return HttpResponse.json(403, apigw.FORBIDDEN), None
            return None, context
        values = apigw.identity_values(authorizer.identity_sources, request, params)
        if values is None:
            return HttpResponse.json(401, apigw.UNAUTHORIZED), None
        cached = self._cached_decision(authorizer, values)
        if cached is None:
            decision = self._call_authorizer(request, route, params, values)
            if decision is None:
                return HttpResponse.json(500, apigw.INTERNAL_ERROR), None
            cached = decision
            if authorizer.ttl > 0 and authorizer.identity_sources:
                with self._auth_lock:
                    key = (authorizer.id, tuple(values))
                    self._auth_cache[key] = (self.clock.now() + authorizer.ttl, decision[0], decision[1])
        allowed, context = cached
        if not allowed:
            return HttpResponse.json(403, apigw.FORBIDDEN), None
        return None, {"lambda": context}

    def _cached_decision(
        self, authorizer: apigw.AuthorizerSpec, values: list[str]
    ) -> tuple[bool, dict[str, Any]] | None:
        if authorizer.ttl <= 0 or not authorizer.identity_sources:
            return None
        with self._auth_lock:
            entry = self._auth_cache.get((authorizer.id, tuple(values)))
        if entry is None or entry[0] <= self.clock.now():
            return None
        return entry[1], entry[2]

    def _call_authorizer(
        self, request: HttpRequest, route: RouteSpec, params: dict[str, str], values: list[str]
    ) -> tuple[bool, dict[str, Any]] | None:
        authorizer = route.authorizer
        assert authorizer is not None
        assert authorizer.function is not None
        event = apigw.http_event(
            request,
            route_key=route.route_key,
            raw_path=request.raw_path,
            path_parameters=params,
            api_id=route.api.id,
            stage=route.api.stage,
            request_id=_request_id(),
            now=self.clock.now(),
        )
        event.pop("body", None)
        event.pop("isBase64Encoded", None)
        api = route.api
        route_arn = (
            f"arn:aws:execute-api:us-east-1:123456789012:{api.id}/{api.stage}/{request.method.upper()}{request.path}"
        )
        event = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": route_arn,
            "identitySource": values,
            **{k: v for k, v in event.items() if k != "version"},
        }
        result = self.lambdas.invoke(authorizer.function, event, source=f"authorizer:{authorizer.name}")
        if not result.ok:
            return None
        return apigw.authorizer_decision(result.payload, authorizer.simple_responses)

    # -- CORS (from the API's CorsConfiguration) ------------------------------------------------

    def _preflight(self, request: HttpRequest) -> HttpResponse | None:
        if (
            request.method != "OPTIONS"
            or not request.header("origin")
            or not request.header("access-control-request-method")
        ):
            return None
        for route in self.routes.routes:
            cors = route.api.cors
            if cors and route.path and apigw.match_path(route.path, request.path) is not None:
                headers = _cors_headers(cors, request.header("origin") or "")
                if not headers:
                    return HttpResponse(403)
                methods = ",".join(cors.get("AllowMethods") or ["*"])
                allow_headers = ",".join(cors.get("AllowHeaders") or [])
                headers += [("Access-Control-Allow-Methods", methods)]
                if allow_headers:
                    headers.append(("Access-Control-Allow-Headers", allow_headers))
                if cors.get("MaxAge") is not None:
                    headers.append(("Access-Control-Max-Age", str(cors["MaxAge"])))
                return HttpResponse(204, headers)
        return None

    def _with_cors(self, request: HttpRequest, route: RouteSpec, response: HttpResponse) -> HttpResponse:
        origin = request.header("origin")
        if origin and route.api.cors:
            response.headers.extend(_cors_headers(route.api.cors, origin))
        return response

    # -- function URLs ------------------------------------------------------------------

    def _function_url(self, request: HttpRequest) -> HttpResponse:
        rest = request.raw_path.removeprefix("/_lambda/")
        logical_id, _, remainder = rest.partition("/")
        spec = self.function_urls.get(logical_id)
        if spec is None:
            return HttpResponse.json(404, apigw.NOT_FOUND)
        event = apigw.http_event(
            request,
            route_key="$default",
            raw_path="/" + remainder,
            path_parameters=None,
            api_id=spec.url_id,
            stage="$default",
            request_id=_request_id(),
            now=self.clock.now(),
        )
        result = self.lambdas.invoke(spec.function, event, source=f"url:{logical_id}")
        if not result.ok:
            return HttpResponse(502, [("Content-Type", "text/plain")], b"Internal Server Error")
        response = apigw.lambda_response(result.payload)
        origin = request.header("origin")
        if origin and spec.cors:
            response.headers.extend(_cors_headers(spec.cors, origin))
        return response


def _cors_headers(cors: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    allowed = cors.get("AllowOrigins") or []
    if "*" not in allowed and origin not in allowed:
        return []
    headers = [("Access-Control-Allow-Origin", "*" if "*" in allowed else origin)]
    if cors.get("AllowCredentials"):
        headers.append(("Access-Control-Allow-Credentials", "true"))
    if cors.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ",".join(cors["ExposeHeaders"])))
    return headers


def _request_id() -> str:
    return str(uuid.uuid4())


def _file_response(path: Path, method: str) -> HttpResponse:
    body = path.read_bytes()
    headers = [("Content-Type", content_type(path)), ("Cache-Control", "no-cache"), ("Content-Length", str(len(body)))]
    return HttpResponse(200, headers, b"" if method == "HEAD" else body)


# -- the server -----------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: FrontDoorApp | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _dispatch(self) -> None:
        raw_path, _, raw_query = self.path.partition("?")
        request = HttpRequest(
            method=self.command,
            raw_path=raw_path or "/",
            raw_query=raw_query,
            headers=list(self.headers.items()),
            body=self._read_body(),
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        app = self.server.app
        try:
            response = app.handle(request) if app is not None else HttpResponse.json(503, {"message": "starting"})
        except Exception:
            log.exception("front door failed on %s %s", request.method, request.raw_path)
            response = HttpResponse.json(500, apigw.INTERNAL_ERROR)
        self._write(response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.client_address[0], format % args)


class FrontDoor:
    """Binds early (so URLs are known while provisioning), serves once the app is ready."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def serve(self, app: FrontDoorApp) -> None:
        self._server.app = app
        self._thread = threading.Thread(target=self._server.serve_forever, name="localcloud-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(2)
        self._server.server_close()


def json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None
