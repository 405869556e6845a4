"""HTTP API plumbing shared by every system's API function.

* `http_app()` — a Powertools `APIGatewayHttpResolver` with validation on (which
  also yields each system's OpenAPI document) and every error mapped, in this one
  place, to RFC 9457 `application/problem+json`.
* `tenant_context(app)` — the verified `TenantContext` of the current request,
  parsed once and bound to the logs.
* `http_handler(app, Config)` — the Lambda entry point: decorator stack, then
  `app.resolve`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from ninefold_core.config import BaseConfig
from ninefold_core.errors import PROBLEM_BASE, PROBLEM_CONTENT_TYPE, DomainError, TooManyRequests
from ninefold_core.observability import bind_tenant, lambda_handler, logger
from ninefold_core.ports.base import ProviderRejected, ProviderUnavailable
from ninefold_core.tenant import TenantContext

ConfigT = TypeVar("ConfigT", bound=BaseConfig)

MAX_BODY_BYTES = 256 * 1024


def problem(status: int, code: str, title: str, detail: str, **extensions: Any) -> Response[str]:
    body = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail, **extensions}
    return Response(status_code=status, content_type=PROBLEM_CONTENT_TYPE, body=json.dumps(body))


def _instance(app: APIGatewayHttpResolver) -> str | None:
    try:
        return str(app.current_event.raw_event.get("rawPath") or "") or None
    except AttributeError:
        return None


def register_problem_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        headers: dict[str, str] = {}
        if isinstance(exc, TooManyRequests) and exc.retry_after_seconds:
            headers["Retry-After"] = str(exc.retry_after_seconds)
        if exc.status >= 500:
            logger.warning("dependency unavailable", extra={"problem": exc.code})
        return Response(
            status_code=exc.status,
            content_type=PROBLEM_CONTENT_TYPE,
            body=json.dumps(exc.problem(_instance(app))),
            headers=headers,
        )

    @app.exception_handler(ProviderUnavailable)
    def _provider_down(exc: ProviderUnavailable) -> Response[str]:
        # The provider's own message may echo personal data: log the summary, answer generically.
        logger.warning("provider unavailable", extra={"provider": exc.provider, "error": str(exc)})
        response = problem(
            503,
            "service-unavailable",
            "Temporarily unavailable",
            "A provider we depend on is unavailable; try again shortly.",
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.exception_handler(ProviderRejected)
    def _provider_rejected(exc: ProviderRejected) -> Response[str]:
        logger.error("provider rejected a request", extra={"provider": exc.provider, "error": str(exc)})
        return problem(
            502,
            "provider-rejected",
            "A provider refused the request",
            "The request could not be completed by a provider.",
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        # Say which field is wrong and why, never echo the input back.
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body") or "body",
                "message": err.get("msg", err["type"]),
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        return problem(
            422,
            "invalid-input",
            "The request did not validate",
            f"{len(errors)} field(s) are invalid.",
            errors=errors,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media_type(exc: RequestUnsupportedContentType) -> Response[str]:
        # A body in a format the resolver cannot parse is the caller's mistake, not a 500.
        return problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the body as application/json.",
        )

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response[str]:
        return problem(404, "not-found", "Not found", "No such route.")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem(500, "internal", "Internal error", "Something went wrong on our side; it has been logged.")


def http_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    register_problem_handlers(app)
    return app


def tenant_context(app: BaseRouter) -> TenantContext:
    """The caller's verified context; `app` is the resolver or one of its routers."""
    ctx = app.context.get("tenant")
    if ctx is None:
        ctx = TenantContext.from_http_event(app.current_event.raw_event)
        app.append_context(tenant=ctx)
        bind_tenant(ctx)
    assert isinstance(ctx, TenantContext)
    return ctx


def current_config(app: BaseRouter, model: type[ConfigT]) -> ConfigT:
    config = app.context["config"]
    assert isinstance(config, model)
    return config


def http_handler(
    app: APIGatewayHttpResolver, config_model: type[ConfigT], *, trace: bool = True
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @lambda_handler(config_model, trace=trace)
    def handler(event: dict[str, Any], context: Any, config: ConfigT) -> dict[str, Any]:
        body = event.get("body")
        if body is not None and len(body) > MAX_BODY_BYTES:
            return _too_large()
        app.append_context(config=config)
        try:
            return app.resolve(event, context)
        finally:
            app.clear_context()

    return handler


def _too_large() -> dict[str, Any]:
    return {
        "statusCode": 413,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE},
        "body": json.dumps(
            {
                "type": PROBLEM_BASE + "payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"Bodies are limited to {MAX_BODY_BYTES} bytes.",
            }
        ),
    }
