from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from ninefold_core.config import BaseConfig
from ninefold_core.consumers import consume_events, envelope_detail
from ninefold_core.events import Envelope, EventData, new_envelope
from ninefold_core.events.schemas.identity import WorkspaceRenamed
from ninefold_core.tenant import TenantContext
from tests.support.events import eventbridge_body, sqs_event

CTX = TenantContext(tenant_id="ws_aaaaaaaaaa", user_id="usr_1")


def config(table: str) -> BaseConfig:
    return BaseConfig(
        STAGE="test", SYSTEM="safety", POWERTOOLS_SERVICE_NAME="safety", EVENT_BUS_NAME="b", TABLE_NAME=table
    )


def detail(name: str = "New") -> dict[str, Any]:
    return new_envelope(WorkspaceRenamed(workspace_id="ws_aaaaaaaaaa", old_name="Old", new_name=name), CTX).to_detail()


class Recorder:
    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.seen: list[tuple[str, str]] = []
        self.fail_on = fail_on or set()

    def __call__(self, envelope: Envelope[EventData], ctx: TenantContext) -> None:
        if envelope.id in self.fail_on:
            raise RuntimeError("downstream failed")
        self.seen.append((envelope.id, ctx.tenant_id))


def test_a_batch_reports_only_its_failed_records(table: str, lambda_context: Any) -> None:
    good, bad = detail("Good"), detail("Bad")
    recorder = Recorder(fail_on={bad["metadata"]["id"]})
    event = sqs_event([eventbridge_body(good), eventbridge_body(bad), "{not json", json.dumps({"metadata": {}})])

    result = consume_events(event, lambda_context, config(table), recorder, consumer="test")

    assert result == {
        "batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]
    }
    assert recorder.seen == [(good["metadata"]["id"], "ws_aaaaaaaaaa")]


def test_a_duplicate_delivery_is_processed_once(table: str, lambda_context: Any) -> None:
    envelope = detail()
    recorder = Recorder()
    for _ in range(3):
        result = consume_events(
            sqs_event([eventbridge_body(envelope)]), lambda_context, config(table), recorder, consumer="test"
        )
        assert result == {"batchItemFailures": []}
    assert len(recorder.seen) == 1


def test_a_failed_record_runs_again_on_redelivery(table: str, lambda_context: Any) -> None:
    envelope = detail()
    flaky = Recorder(fail_on={envelope["metadata"]["id"]})
    # When every record of a batch fails, Powertools raises so Lambda returns the whole batch.
    with pytest.raises(BatchProcessingError):
        consume_events(sqs_event([eventbridge_body(envelope)]), lambda_context, config(table), flaky, consumer="test")
    flaky.fail_on.clear()
    second = consume_events(
        sqs_event([eventbridge_body(envelope)]), lambda_context, config(table), flaky, consumer="test"
    )
    assert second == {"batchItemFailures": []}
    assert len(flaky.seen) == 1


def test_two_consumers_of_one_event_each_process_it(table: str, lambda_context: Any) -> None:
    envelope = detail()
    a, b = Recorder(), Recorder()
    consume_events(sqs_event([eventbridge_body(envelope)]), lambda_context, config(table), a, consumer="a")
    consume_events(sqs_event([eventbridge_body(envelope)]), lambda_context, config(table), b, consumer="b")
    assert len(a.seen) == len(b.seen) == 1


@pytest.mark.parametrize("body", ["[]", "3", "null"])
def test_bodies_that_are_not_objects_are_rejected(body: str) -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        envelope_detail(body)


def test_an_envelope_sent_straight_to_a_queue_is_accepted() -> None:
    envelope = detail()
    assert envelope_detail(json.dumps(envelope)) == envelope
