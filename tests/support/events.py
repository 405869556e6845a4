"""Builders for Lambda events, shared by the unit and integration tiers."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ninefold_core.tenant import TenantContext


def http_event(
    method: str,
    path: str,
    *,
    ctx: TenantContext | None = None,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    route_key: str | None = None,
    headers: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An HTTP API payload-2.0 event, as API Gateway sends it after the authorizer.

    Cookies arrive as payload 2.0 sends them: a `cookies` list of `name=value`, no Cookie header.
    """
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": "pytest",
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": route_key or f"{method} {path}",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "timeEpoch": int(time.time() * 1000),
    }
    if ctx is not None:
        request_context["authorizer"] = {"lambda": ctx.to_authorizer_context()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": request_context["routeKey"],
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if cookies:
        event["cookies"] = [f"{name}={value}" for name, value in cookies.items()]
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    return event


def sqs_event(bodies: list[str], *, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q") -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"rh{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def eventbridge_body(detail: dict[str, Any]) -> str:
    """What an EventBridge rule puts in an SQS message for an envelope."""
    return json.dumps(
        {
            "version": "0",
            "id": uuid.uuid4().hex,
            "detail-type": detail["metadata"]["type"],
            "source": detail["metadata"]["source"],
            "account": "123456789012",
            "time": detail["metadata"]["occurred_at"],
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }
    )
