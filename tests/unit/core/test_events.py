from __future__ import annotations

import json
from typing import Any

import pytest

from ninefold_core import aws
from ninefold_core.dynamo import TenantRepository
from ninefold_core.errors import InvalidInput
from ninefold_core.events import CATALOG, EventData, event, new_envelope, parse_envelope
from ninefold_core.events.outbox import outbox_op
from ninefold_core.events.publisher import EventPublisher, PublishFailed
from ninefold_core.events.relay import handler as relay_handler
from ninefold_core.events.relay import outbox_detail
from ninefold_core.events.schemas.identity import WorkspaceRenamed
from ninefold_core.tenant import Actor, TenantContext
from scripts import events_doc

CTX = TenantContext(
    tenant_id="ws_aaaaaaaaaa",
    user_id="usr_1",
    session_id="s1",
    request_id="r1",
    impersonator=Actor(user_id="adm_1", reason="support"),
)


def renamed() -> WorkspaceRenamed:
    return WorkspaceRenamed(workspace_id="ws_aaaaaaaaaa", old_name="Old", new_name="New")


def test_the_envelope_carries_type_version_tenant_and_correlation() -> None:
    envelope = new_envelope(renamed(), CTX)
    meta = envelope.metadata
    assert (meta.type, meta.version, meta.tenant_id, meta.source) == (
        "workspace.renamed",
        1,
        "ws_aaaaaaaaaa",
        "ninefold.identity",
    )
    assert meta.correlation.actor_chain == ("adm_1", "usr_1")
    assert meta.correlation.request_id == "r1"


def test_an_envelope_parses_back_to_its_catalogued_model() -> None:
    detail = json.loads(json.dumps(new_envelope(renamed(), CTX).to_detail()))
    parsed = parse_envelope(detail)
    assert isinstance(parsed.data, WorkspaceRenamed)
    assert parsed.data.new_name == "New"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("metadata"),
        lambda d: d["metadata"].update(type="no.such_event"),
        lambda d: d["metadata"].update(version=99),
        lambda d: d["data"].update(new_name=""),
        lambda d: d["data"].update(unexpected="field"),
    ],
)
def test_malformed_or_unknown_events_are_invalid_input(mutate: Any) -> None:
    detail = new_envelope(renamed(), CTX).to_detail()
    mutate(detail)
    with pytest.raises(InvalidInput):
        parse_envelope(detail)


def test_event_types_are_registered_once_and_well_named() -> None:
    with pytest.raises(ValueError, match="twice"):

        @event("workspace.renamed", producer="identity")
        class Duplicate(EventData):
            pass

    with pytest.raises(ValueError, match="noun"):

        @event("WorkspaceRenamed", producer="identity")
        class BadName(EventData):
            pass

    assert ("workspace.renamed", 1) in CATALOG


def test_an_uncatalogued_model_cannot_be_enveloped() -> None:
    class Loose(EventData):
        pass

    with pytest.raises(TypeError):
        new_envelope(Loose(), CTX)


def test_docs_events_md_matches_the_catalog() -> None:
    assert events_doc.main(["--check"]) == 0, "run: python -m scripts.events_doc"


class FlakyEvents:
    def __init__(self, fail_times: int) -> None:
        self.fail_times = fail_times
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if self.fail_times:
            self.fail_times -= 1
            return {"FailedEntryCount": len(Entries), "Entries": [{"ErrorCode": "InternalFailure"} for _ in Entries]}
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i, _ in enumerate(Entries)]}


def test_the_publisher_batches_by_ten_and_retries_failed_entries_once() -> None:
    client = FlakyEvents(fail_times=1)
    envelopes = [new_envelope(renamed(), CTX) for _ in range(12)]
    EventPublisher("bus", client).publish(*envelopes)
    assert [len(c) for c in client.calls] == [10, 10, 2]
    entry = client.calls[0][0]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "ninefold.identity",
        "workspace.renamed",
        "bus",
    )


def test_the_publisher_raises_a_retryable_error_when_entries_keep_failing() -> None:
    with pytest.raises(PublishFailed):
        EventPublisher("bus", FlakyEvents(fail_times=5)).publish(new_envelope(renamed(), CTX))


def stream_records(table: str) -> list[dict[str, Any]]:
    streams = aws.client("dynamodbstreams")
    arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = streams.get_records(ShardIterator=iterator)["Records"]
    return records


def test_outbox_items_are_relayed_to_the_bus_and_other_writes_are_not(
    table: str, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSTEM", "identity")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "identity")
    monkeypatch.setenv("TABLE_NAME", table)
    events = aws.client("events")
    events.create_event_bus(Name="ninefold-test")
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="all", EventBusName="ninefold-test", EventPattern=json.dumps({"source": [{"prefix": "ninefold."}]})
    )
    events.put_targets(Rule="all", EventBusName="ninefold-test", Targets=[{"Id": "q", "Arn": queue_arn}])

    repo = TenantRepository(table, CTX)
    envelope = new_envelope(renamed(), CTX)
    repo.transact([repo.put_op(("WORKSPACE",), "workspace", {"name": "New"}), outbox_op(repo, envelope)])
    records = stream_records(table)
    assert [outbox_detail(r) is not None for r in records] == [False, True]

    result = relay_handler({"Records": records}, lambda_context)

    assert result == {"batchItemFailures": []}
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail"]["metadata"]["id"] for m in messages] == [envelope.id]


def test_an_event_cannot_be_written_to_another_tenants_outbox(table: str) -> None:
    other = TenantRepository(table, TenantContext(tenant_id="ws_bbbbbbbbbb", user_id="u"))
    with pytest.raises(ValueError, match="own tenant"):
        outbox_op(other, new_envelope(renamed(), CTX))


def test_sensitive_fields_are_masked_in_the_redacted_view_only() -> None:
    from ninefold_core.events.schemas.identity import EmailRequested

    data = EmailRequested(
        to="a@example.com", template="verify-email", variables={"link": "https://x/#token=t"}, idempotency_key="k"
    )

    assert data.redacted() == {
        "to": "a@example.com",
        "template": "verify-email",
        "variables": {"link": "[redacted]"},
        "idempotency_key": "k",
    }
    assert data.model_dump()["variables"] == {"link": "https://x/#token=t"}  # consumers still get it
    assert renamed().redacted() == renamed().model_dump(mode="json")


def test_each_write_of_a_job_run_is_relayed_as_a_job_run_changed_snapshot(table: str) -> None:
    from ninefold_core.events.relay import run_change_detail
    from ninefold_core.events.schemas.jobs import MAX_INLINE_BYTES
    from ninefold_core.jobs import build_message
    from ninefold_core.jobs.execution import new_run
    from ninefold_core.jobs.store import RunStore

    store = RunStore(table, CTX)
    # {"note":"…"}: 11 bytes of JSON around the note
    message = build_message("identity.cleanup", {"note": "x" * (MAX_INLINE_BYTES + 1)}, CTX)
    store.create(new_run(message, 3), idempotency_ttl=60)
    store.transition(message.run_id, "queued", {"status": "running", "attempts": 1}, job=message.job)
    store.transition(message.run_id, "running", {"status": "succeeded", "result": {"ok": True}}, job=message.job)

    records = stream_records(table)
    details = [run_change_detail(r, "identity") for r in records]
    details = [d for d in details if d is not None]
    assert [d["data"]["status"] for d in details] == ["queued", "running", "succeeded"]
    assert [d["data"]["revision"] for d in details] == [1, 2, 3]
    last = parse_envelope(details[-1])
    assert (last.metadata.type, last.metadata.source, last.tenant_id) == (
        "job_run.changed",
        "ninefold.identity",
        CTX.tenant_id,
    )
    assert last.data.system == "identity"  # type: ignore[attr-defined]
    assert last.data.result == {"ok": True}  # type: ignore[attr-defined]
    assert last.data.payload == {"omitted": f"{MAX_INLINE_BYTES + 1 + 11} bytes"}  # type: ignore[attr-defined]
    assert last.data.redacted()["payload"] == {"omitted": "[redacted]"}
    # A redelivered stream record makes the same event id (consumers drop the duplicate).
    assert run_change_detail(records[-1], "identity") == details[-1]
    assert len({d["metadata"]["id"] for d in details}) == 3


def test_a_shared_event_names_its_producer_and_no_other_event_may() -> None:
    from ninefold_core.events.schemas.jobs import JobRunChanged

    data = JobRunChanged(
        system="identity", run_id="run_1", job="identity.x", status="queued", revision=1, created_at="t"
    )
    with pytest.raises(TypeError, match="producing system"):
        new_envelope(data, CTX)
    with pytest.raises(TypeError, match="producing system"):
        new_envelope(renamed(), CTX, producer="billing")
    assert new_envelope(data, CTX, producer="billing").metadata.source == "ninefold.billing"
