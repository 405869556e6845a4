"""The front door serves the templates' HTTP API routes, function URLs and static sites."""

from __future__ import annotations

import base64

import pytest

from localcloud import LocalCloud
from tests.fixtures.localcloud.handlers import recorder

from .conftest import AUTH, Http

pytestmark = pytest.mark.integration


def test_an_authorized_route_gets_a_payload_2_event_with_the_authorizer_context(http: Http) -> None:
    response = http.get("/api/v1/items/42?q=1&q=2", headers={**AUTH, "Cookie": "a=1; b=2", "X-Custom": "v"})
    assert response.status == 200
    seen = response.json()
    assert seen["routeKey"] == "GET /api/v1/items/{item_id}"
    assert seen["pathParameters"] == {"item_id": "42"}
    assert seen["query"] == {"q": "1,2"}
    assert seen["cookies"] == ["a=1", "b=2"]
    assert seen["authorizer"] == {"lambda": {"tenant": "t1", "user": "u1"}}
    assert seen["stage"] == "$default"
    assert seen["method"] == "GET"
    assert seen["headers"]["x-custom"] == "v"
    assert "cookie" not in seen["headers"]
    assert seen["table"] == "fixture-table"  # Fn::ImportValue across stacks
    assert seen["function"] == "Fixture-App-ApiFnE1A2B3C4"


def test_structured_responses_map_headers_cookies_and_status(http: Http) -> None:
    response = http.get("/api/v1/items/42", headers=AUTH)
    assert response.headers["x-route"] == "GET /api/v1/items/{item_id}"
    assert response.header_values("x-multi") == ["a", "b"]
    assert response.header_values("Set-Cookie") == ["session=abc; Path=/", "theme=dark"]


def test_a_missing_identity_source_is_401_without_calling_the_authorizer(http: Http) -> None:
    response = http.get("/api/v1/items/42")
    assert (response.status, response.json()) == (401, {"message": "Unauthorized"})
    assert recorder.get("authorizer") == []


def test_a_denying_authorizer_is_403_and_a_failing_one_is_500(http: Http) -> None:
    denied = http.get("/api/v1/items/42", headers={"Authorization": "Bearer nope"})
    assert (denied.status, denied.json()) == (403, {"message": "Forbidden"})
    broken = http.get("/api/v1/items/42", headers={"Authorization": "Bearer broken"})
    assert (broken.status, broken.json()) == (500, {"message": "Internal Server Error"})


def test_authorizer_results_are_cached_per_identity_for_the_ttl(http: Http, cloud: LocalCloud) -> None:
    headers = {"Authorization": "Bearer good"}
    cloud.clock.advance(301)  # expire what earlier tests cached
    http.get("/api/v1/items/1", headers=headers)
    http.get("/api/v1/items/2", headers=headers)
    http.post("/api/v1/items", body=b"{}", headers={**headers, "Content-Type": "application/json"})
    assert len(recorder.get("authorizer")) == 1
    assert recorder.get("authorizer")[0]["routeArn"].endswith("/$default/GET/api/v1/items/1")
    cloud.clock.advance(301)
    http.get("/api/v1/items/3", headers=headers)
    assert len(recorder.get("authorizer")) == 2


def test_literal_routes_beat_variables_and_greedy_routes_take_the_rest(http: Http) -> None:
    assert http.get("/api/v1/items/special").json()["routeKey"] == "GET /api/v1/items/special"
    proxied = http.get("/api/v1/public/a/b/c").json()
    assert proxied["routeKey"] == "GET /api/v1/public/{proxy+}"
    assert proxied["pathParameters"] == {"proxy": "a/b/c"}


def test_explicit_methods_beat_any(http: Http) -> None:
    assert http.get("/api/v1/echo").json()["routeKey"] == "GET /api/v1/echo"
    deleted = http.request("DELETE", "/api/v1/echo").json()
    assert deleted["routeKey"] == "ANY /api/v1/echo"
    assert deleted["method"] == "DELETE"


def test_unmatched_paths_go_to_the_default_route(http: Http) -> None:
    response = http.request(
        "PUT", "/somewhere/else", body=b"\x00\x01", headers={"Content-Type": "application/octet-stream"}
    )
    seen = response.json()
    assert seen["routeKey"] == "$default"
    assert seen["rawPath"] == "/somewhere/else"
    assert seen["isBase64Encoded"] is True
    assert base64.b64decode(seen["body"]) == b"\x00\x01"


def test_inferred_and_failed_responses(http: Http) -> None:
    plain = http.get("/api/v1/echo-plain")
    assert (plain.status, plain.headers["Content-Type"], plain.json()) == (200, "application/json", {"plain": True})
    crashed = http.get("/api/v1/crash")
    assert (crashed.status, crashed.json()) == (500, {"message": "Internal Server Error"})


def test_cors_preflight_and_response_headers_follow_the_apis_configuration(http: Http) -> None:
    preflight = http.request(
        "OPTIONS",
        "/api/v1/items/1",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    response = http.get("/api/v1/echo", headers={"Origin": "http://localhost:3000"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_function_urls_are_served_under_lambda_prefix(http: Http, cloud: LocalCloud) -> None:
    assert http.get("/_lambda/UrlFn9A8B7C6D/hello?x=1").body == b"GET /hello x=1"
    binary = http.get("/_lambda/UrlFn9A8B7C6D/binary")
    assert binary.body == b"\x00\x01\x02"
    assert binary.headers["content-type"] == "application/octet-stream"
    url = cloud.resource("Fixture-App/UrlFn/FunctionUrl").attributes["FunctionUrl"]
    assert url == f"{cloud.url}/_lambda/UrlFn9A8B7C6D/"
    cloud.faults.inject("Fixture-App/UrlFn", exc=RuntimeError("down"), times=1)
    assert http.get("/_lambda/UrlFn9A8B7C6D/x").status == 502
    assert http.get("/_lambda/Unknown/").status == 404


def test_static_sites_longest_prefix_spa_fallback_and_exact_files(http: Http) -> None:
    home = http.get("/")
    assert home.status == 200
    assert home.headers["Content-Type"].startswith("text/html")
    assert b"www" in home.body
    assert http.get("/style.css").headers["Content-Type"].startswith("text/css")
    assert b"docs index" in http.get("/docs/").body
    app = http.get("/app/workspaces/42/settings")
    assert app.status == 200
    assert b"console" in app.body
    assert http.get("/app/assets/app.js").headers["Content-Type"].startswith("text/javascript")
    openapi = http.get("/api/openapi.json")
    assert openapi.status == 200
    assert openapi.json()["openapi"] == "3.1.0"


def test_local_endpoints_health_and_clock(http: Http, cloud: LocalCloud) -> None:
    assert http.get("/_local/health").json()["status"] == "ok"
    endpoints = http.get("/_local/endpoints").json()
    assert endpoints == cloud.endpoints()
    before = http.get("/_local/clock").json()["now"]
    after = http.post("/_local/clock", body={"advance": 3600}).json()["now"]
    assert after - before >= 3600
    assert http.get("/_local/nothing").status == 404


def test_faults_and_wait_idle_over_http_for_browser_tests(http: Http) -> None:
    injected = http.post("/_local/faults", body={"target": "fixture-env-one", "error": "Throttled", "times": 1})
    assert injected.json() == {"Fixture-App/EnvOneFnA1B2C3D4": {"error": "Throttled", "remaining": 1}}
    assert http.post("/_local/wait-idle", body={"timeout": 5}).json() == {"idle": True}
    assert http.request("DELETE", "/_local/faults").json() == {}
    assert http.get("/_local/invocations").status == 200
