"""HTTP API semantics: route selection, payload 2.0 events, responses, authorizer answers."""

from __future__ import annotations

import base64
import json

import pytest

from localcloud import apigw
from localcloud.apigw import AuthorizerSpec, HttpApiSpec, HttpRequest, RouteSpec, RouteTable

pytestmark = pytest.mark.unit

API = HttpApiSpec(key="S/Api", logical_id="Api", stack="S", cdk_path=None, id="abc123", name="api")


def route(key: str) -> RouteSpec:
    return RouteSpec(
        api=API, logical_id=key, stack="S", cdk_path=None, route_key=key, integration=None, authorizer=None
    )


TABLE = RouteTable(
    [
        route("GET /items/{id}"),
        route("GET /items/special"),
        route("ANY /items/{id}"),
        route("POST /items"),
        route("GET /files/{proxy+}"),
        route("$default"),
    ]
)


def selected(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = TABLE.match(method, path)
    return (found[0].route_key, found[1]) if found else None


def test_literal_segments_beat_path_variables() -> None:
    assert selected("GET", "/items/special") == ("GET /items/special", {})
    assert selected("GET", "/items/42") == ("GET /items/{id}", {"id": "42"})


def test_an_explicit_method_beats_any() -> None:
    assert selected("DELETE", "/items/42") == ("ANY /items/{id}", {"id": "42"})
    assert selected("GET", "/items/42")[0] == "GET /items/{id}"  # type: ignore[index]


def test_greedy_variables_take_one_or_more_segments() -> None:
    assert selected("GET", "/files/a/b/c.txt") == ("GET /files/{proxy+}", {"proxy": "a/b/c.txt"})
    assert selected("GET", "/files") is None


def test_no_match_leaves_the_default_route() -> None:
    assert selected("GET", "/nothing") is None
    assert TABLE.default() is not None
    assert TABLE.default().route_key == "$default"
    assert selected("PUT", "/items") is None


def request(**changes: object) -> HttpRequest:
    base = dict(
        method="POST",
        raw_path="/items/42",
        raw_query="a=1&a=2&b=",
        headers=[
            ("Host", "127.0.0.1:8000"),
            ("User-Agent", "ua"),
            ("X-Multi", "1"),
            ("x-multi", "2"),
            ("Cookie", "s=1; t=2"),
            ("Content-Type", "application/json"),
        ],
        body=b'{"x": 1}',
    )
    base.update(changes)
    return HttpRequest(**base)  # type: ignore[arg-type]


def test_payload_2_event_shape() -> None:
    event = apigw.http_event(
        request(),
        route_key="POST /items/{id}",
        raw_path="/items/42",
        path_parameters={"id": "42"},
        api_id="abc123",
        stage="$default",
        request_id="r-1",
        now=1767225600.0,
        authorizer={"lambda": {"t": "1"}},
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["x-multi"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["pathParameters"] == {"id": "42"}
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/items/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "ua",
    }
    assert context["stage"] == "$default"
    assert context["apiId"] == "abc123"
    assert context["accountId"] == "123456789012"
    assert context["time"] == "01/Jan/2026:00:00:00 +0000"
    assert context["timeEpoch"] == 1767225600000
    assert context["authorizer"] == {"lambda": {"t": "1"}}
    assert context["domainName"] == "127.0.0.1:8000"
    assert context["domainPrefix"] == "127"


def test_binary_bodies_are_base64_and_absent_parts_are_left_out() -> None:
    binary = apigw.http_event(
        request(headers=[("Content-Type", "image/png")], body=b"\x89PNG", raw_query=""),
        route_key="$default",
        raw_path="/x",
        path_parameters=None,
        api_id="a",
        stage="$default",
        request_id="r",
        now=0,
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x89PNG"
    for absent in ("queryStringParameters", "pathParameters", "cookies"):
        assert absent not in binary


def test_structured_responses() -> None:
    response = apigw.lambda_response(
        {
            "statusCode": 201,
            "headers": {"content-type": "text/plain", "x-flag": True},
            "multiValueHeaders": {"x-many": ["a", "b"]},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": "made",
        }
    )
    assert response.status == 201
    assert response.body == b"made"
    assert ("x-flag", "true") in response.headers
    assert ("x-many", "a") in response.headers
    assert ("x-many", "b") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2"]


def test_base64_responses_are_decoded() -> None:
    response = apigw.lambda_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert response.body == b"\x00\x01"


def test_a_return_value_without_status_code_is_inferred_as_200_json() -> None:
    response = apigw.lambda_response({"hello": "world"})
    assert response.status == 200
    assert ("Content-Type", "application/json") in response.headers
    assert json.loads(response.body) == {"hello": "world"}
    assert json.loads(apigw.lambda_response("text").body) == "text"


def test_a_bad_status_code_is_a_500() -> None:
    assert apigw.lambda_response({"statusCode": "nope"}).status == 500


def test_identity_sources_missing_means_no_authorizer_call() -> None:
    sources = ["$request.header.Authorization", "$request.querystring.tenant"]
    good = request(headers=[("Authorization", "Bearer x")], raw_query="tenant=t1")
    assert apigw.identity_values(sources, good, {}) == ["Bearer x", "t1"]
    assert apigw.identity_values(sources, request(headers=[], raw_query="tenant=t1"), {}) is None
    assert (
        apigw.identity_values(["$request.header.Authorization"], request(headers=[("Authorization", "")]), {}) is None
    )


def test_authorizer_simple_and_policy_responses() -> None:
    assert apigw.authorizer_decision({"isAuthorized": True, "context": {"a": 1}}, True) == (True, {"a": 1})
    assert apigw.authorizer_decision({"isAuthorized": False}, True) == (False, {})
    assert apigw.authorizer_decision({"isAuthorized": "yes"}, True)[0] is False
    policy = {
        "principalId": "u",
        "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke"}]},
    }
    assert apigw.authorizer_decision(policy, False) == (True, {"principalId": "u"})
    deny = {"policyDocument": {"Statement": [{"Effect": "Deny"}]}}
    assert apigw.authorizer_decision(deny, False)[0] is False
    assert apigw.authorizer_decision(None, True)[0] is False


def jwt(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"Bearer {part({'alg': 'none'})}.{part(claims)}.sig"


def test_jwt_authorizer_checks_issuer_audience_and_expiry() -> None:
    spec = AuthorizerSpec(
        id="a",
        logical_id="A",
        name="jwt",
        type="JWT",
        function=None,
        identity_sources=["$request.header.Authorization"],
        issuer="https://issuer",
        audience=["app"],
    )
    ok, context = apigw.jwt_decision(
        spec, jwt({"iss": "https://issuer", "aud": "app", "exp": 2000, "scope": "a b"}), 1000
    )
    assert ok == 200
    assert context["jwt"]["scopes"] == ["a", "b"]
    assert apigw.jwt_decision(spec, jwt({"iss": "other", "aud": "app"}), 1000)[0] == 401
    assert apigw.jwt_decision(spec, jwt({"iss": "https://issuer", "client_id": "app"}), 1000)[0] == 200
    assert apigw.jwt_decision(spec, jwt({"iss": "https://issuer", "aud": "app", "exp": 10}), 1000)[0] == 401
    assert apigw.jwt_decision(spec, "Bearer garbage", 1000)[0] == 401
