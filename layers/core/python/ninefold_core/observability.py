"""The observability baseline every handler gets.

* Logger: JSON lines with service, function, cold start, correlation id and —
  once the tenant context is known — tenant id, user id and the actor chain.
* Metrics: CloudWatch EMF under the `Ninefold` namespace, `service` dimension.
* Tracer: Powertools' X-Ray tracer, created on first use (importing the X-Ray SDK
  costs ~200 ms, so the authorizer and other hot paths may opt out).

`lambda_handler` is the decorator stack: typed config, log context, metrics,
tracing, then one call into the function. Instances are module singletons with
fixed names (no environment read at import); the per-function service name is
applied per invocation, so functions sharing a process (the local cloud) keep
their own identity on every log line.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ninefold_core.config import BaseConfig, load_config
from ninefold_core.tenant import TenantContext

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="ninefold", utc=True)
metrics = Metrics(namespace="Ninefold")
_tracer: Tracer | None = None
_cold_start = True

ConfigT = TypeVar("ConfigT", bound=BaseConfig)
R = TypeVar("R")

TENANT_KEYS = ("tenant_id", "user_id", "actor_chain", "session_id")


def tracer() -> Tracer:
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service="ninefold")
    return _tracer


def bind_tenant(ctx: TenantContext) -> None:
    """Put who and which tenant on every following log line and on the trace."""
    logger.append_keys(
        tenant_id=ctx.tenant_id,
        user_id=ctx.user_id,
        actor_chain=list(ctx.actor_chain) if ctx.impersonator else None,
        session_id=ctx.session_id,
    )
    if _tracer is not None:
        _tracer.put_annotation("tenant_id", ctx.tenant_id)


def correlation_id_of(event: Mapping[str, Any]) -> str | None:
    request_context = event.get("requestContext")
    if isinstance(request_context, Mapping):
        request_id = request_context.get("requestId")
        return str(request_id) if request_id else None
    return None


def lambda_handler(
    config_model: type[ConfigT], *, trace: bool = True
) -> Callable[[Callable[[dict[str, Any], Any, ConfigT], R]], Callable[[dict[str, Any], Any], R]]:
    """Decorate `fn(event, context, config)` into a Lambda handler `(event, context)`."""

    def decorate(fn: Callable[[dict[str, Any], Any, ConfigT], R]) -> Callable[[dict[str, Any], Any], R]:
        @functools.wraps(fn)
        def handler(event: dict[str, Any], context: Any) -> R:
            global _cold_start
            config = load_config(config_model)
            cold, _cold_start = _cold_start, False
            logger.clear_state()
            logger.setLevel(config.log_level)
            logger.append_keys(
                service=config.service,
                function=getattr(context, "function_name", None),
                request_id=getattr(context, "aws_request_id", None),
                cold_start=cold,
            )
            logger.set_correlation_id(correlation_id_of(event))
            if metrics.default_dimensions.get("service") != config.service:
                with warnings.catch_warnings():
                    # Replacing the service dimension (set from the environment at import) is the point.
                    warnings.simplefilter("ignore")
                    metrics.set_default_dimensions(service=config.service)
            if cold:
                metrics.add_metric(name="ColdStart", unit=MetricUnit.Count, value=1)
            try:
                if trace:
                    return tracer().capture_method(fn)(event, context, config)
                return fn(event, context, config)
            finally:
                if metrics.metric_set:
                    metrics.flush_metrics(raise_on_empty_metrics=False)
                # With POWERTOOLS_METRICS_DISABLED, flush keeps the set: without this, a warm
                # container would carry one invocation's metrics into the next, and grow.
                metrics.clear_metrics()

        return handler

    return decorate
