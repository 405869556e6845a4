"""SystemStack's helpers as a future system uses them: streams, extra indexes, public routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from app import cdk_json_context
from stacks import bundling
from stacks.constants import handler_path
from stacks.foundation import FoundationStack
from stacks.nag import acknowledged_rules
from stacks.system import SystemStack, event_pattern
from stacks.systems.identity import IdentityStack
from tests.infra.conftest import SKIP_BUNDLING, only

pytestmark = pytest.mark.infra

WEBHOOK_REASON = "Signed by the provider (Standard Webhooks HMAC) and verified in the handler"


class DemoStack(SystemStack):
    system = "demo"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> cdk.App:
    functions = tmp_path / "functions"
    for system in ("identity", "demo"):
        (functions / system / "handlers").mkdir(parents=True)
    monkeypatch.setattr(bundling, "FUNCTIONS_DIR", functions)
    return cdk.App(context={**cdk_json_context(), **SKIP_BUNDLING}, outdir=str(tmp_path / "cdk.out"))


@pytest.fixture
def demo(app: cdk.App) -> DemoStack:
    foundation = FoundationStack(app, stage="dev")
    identity = IdentityStack(app, platform=foundation.platform)
    return DemoStack(app, platform=identity.platform, table_indexes=("gsi1", "gsi2"), table_stream=True)


def test_a_system_may_ask_for_a_stream_and_several_indexes(demo: DemoStack) -> None:
    table = only(Template.from_stack(demo).find_resources("AWS::DynamoDB::GlobalTable"))["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2"]


def test_a_public_route_says_why_and_only_it_is_acknowledged(app: cdk.App, demo: DemoStack) -> None:
    webhook = demo.function("DemoWebhook", handler_path("demo", "webhook"), timeout=cdk.Duration.seconds(3))
    (public,) = demo.routes(webhook, ["POST /api/v1/webhooks/demo"], public_reason=WEBHOOK_REASON)
    (private,) = demo.routes(webhook, ["GET /api/v1/webhooks/demo/status"])

    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in Template.from_stack(demo).find_resources("AWS::ApiGatewayV2::Route").values()
    }
    assert routes["POST /api/v1/webhooks/demo"]["AuthorizationType"] == "NONE"
    assert routes["GET /api/v1/webhooks/demo/status"]["AuthorizationType"] == "CUSTOM"
    acknowledged = acknowledged_rules(demo)
    assert acknowledged[public.node.default_child.node.path]["AwsSolutions-APIG4"].endswith(WEBHOOK_REASON)  # type: ignore[union-attr]
    assert private.node.default_child.node.path not in acknowledged  # type: ignore[union-attr]

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # no unacknowledged finding


def test_routes_must_live_under_api(demo: DemoStack) -> None:
    function = demo.function("DemoApi", handler_path("demo", "api"), timeout=cdk.Duration.seconds(3))
    with pytest.raises(ValueError, match="start with /api/"):
        demo.routes(function, ["GET /v1/things"])
    with pytest.raises(ValueError, match="must look like"):
        demo.routes(function, ["/api/v1/things"])
    with pytest.raises(ValueError, match="either public or authorized"):
        demo.routes(function, ["GET /api/v1/x"], authorizer=demo.platform.authorizer, public_reason=WEBHOOK_REASON)


def test_platform_variables_cannot_be_overridden(demo: DemoStack) -> None:
    with pytest.raises(ValueError, match="TABLE_NAME"):
        demo.function(
            "Bad", handler_path("demo", "api"), timeout=cdk.Duration.seconds(3), environment={"TABLE_NAME": "x"}
        )


def test_subscribing_a_queue_without_dead_letters_is_refused(demo: DemoStack) -> None:
    bare = sqs.Queue(demo, "Bare", enforce_ssl=True)
    with pytest.raises(ValueError, match="no dead-letter queue"):
        demo.subscribe("Everything", bare, {"source": [{"prefix": "ninefold."}]})


def test_consumer_sizes_visibility_from_the_function_timeout(demo: DemoStack) -> None:
    worker = demo.function("DemoWorker", handler_path("demo", "worker"), timeout=cdk.Duration.seconds(45))
    demo.subscribe("Everything", demo.consumer("Work", worker, batch_size=5), {"detail-type": ["demo.thing"]})
    template = Template.from_stack(demo)
    queues = template.find_resources("AWS::SQS::Queue")
    (queue,) = [q for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert queue["Properties"]["VisibilityTimeout"] == 270
    assert only(template.find_resources("AWS::Lambda::EventSourceMapping"))["Properties"]["BatchSize"] == 5


def test_raw_event_patterns_render_unchanged(demo: DemoStack) -> None:
    pattern: dict[str, Any] = {
        "source": [{"prefix": "ninefold."}],
        "detail-type": ["billing.SubscriptionActivated", {"anything-but": "billing.Ignored"}],
        "detail": {"tenant_id": [{"exists": True}]},
    }
    rule = demo.subscribe("RichRule", demo.consumer("RichQueue", _worker(demo)), pattern)
    assert demo.resolve(rule.node.default_child.event_pattern) == pattern  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="unknown event pattern keys"):
        event_pattern({"detail_type": ["x"]})


def _worker(demo: DemoStack) -> Any:
    return demo.function("RichWorker", handler_path("demo", "worker"), timeout=cdk.Duration.seconds(10))
