"""Pins every place the local cloud reaches into moto's internals (see localcloud/moto_hooks.py).

If a moto upgrade moves or changes one of these, a test here fails, instead of
the local cloud silently falling back to moto's own (incomplete) behaviour.
Runs moto in-process (`mock_aws`): no sockets.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import moto
import pytest
from moto import mock_aws

from localcloud import moto_hooks
from localcloud.clock import WarpClock
from localcloud.moto_server import MOTO_CONFIG

pytestmark = pytest.mark.unit

ACCOUNT, REGION = "123456789012", "us-east-1"


@dataclass
class Calls:
    invoked: list[tuple[str, Any]] = field(default_factory=list)
    async_invoked: list[tuple[str, Any, str]] = field(default_factory=list)
    rules: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    stream_writes: list[str] = field(default_factory=list)
    respond: Callable[[str, Any, dict[str, Any]], bytes] | None = None

    def invoke(self, function: str, body: Any, headers: Any, response_headers: dict[str, Any]) -> bytes:
        event = json.loads(body or "{}")
        self.invoked.append((function, event))
        if self.respond is not None:
            return self.respond(function, event, response_headers)
        return json.dumps({"echo": event}).encode()


@pytest.fixture
def clock() -> WarpClock:
    return WarpClock()


@pytest.fixture
def calls(clock: WarpClock) -> Iterator[Calls]:
    recorded = Calls()
    moto_hooks.install(
        moto_hooks.HookTargets(
            clock=clock,
            invoke=recorded.invoke,
            invoke_async=lambda fn, event, source: recorded.async_invoked.append((fn, event, source)),
            on_rule=lambda rule, event: recorded.rules.append((rule, event)),
            on_stream_write=recorded.stream_writes.append,
        )
    )
    with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
        yield recorded
    moto_hooks.uninstall()


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def test_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == "5.2.5", "re-check every hook in localcloud/moto_hooks.py before moving moto"


@pytest.mark.parametrize("point", moto_hooks.HOOK_POINTS, ids=lambda p: f"{p[1] or p[0].rsplit('.', 1)[-1]}.{p[2]}")
def test_every_hook_point_exists(point: tuple[str, str, str]) -> None:
    assert getattr(moto_hooks._owner(point), point[2], None) is not None


def test_hooked_callables_keep_the_signatures_we_replace() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.dynamodb.models.table import StreamShard
    from moto.events.models import Rule
    from moto.s3 import notifications
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    def params(function: Any) -> list[str]:
        return list(inspect.signature(function).parameters)

    assert params(LambdaSimpleBackend.invoke) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]
    assert params(LambdaSimpleBackend.send_sns_message) == ["self", "function_name", "message", "subject", "qualifier"]
    assert params(notifications._invoke_awslambda) == ["account_id", "event_body", "fn_arn", "region_name"]
    assert params(Rule.send_to_targets) == ["self", "original_event", "transform_input"]
    assert params(WaitFunction._wait_interval) == ["self", "env", "wait_seconds"]
    assert params(Timestamp._get_wait_seconds) == ["self", "env"]
    assert params(StreamShard.add) == ["self", "old", "new"]
    from moto.sqs.models import Queue, SQSBackend

    assert params(SQSBackend.receive_message)[:2] == ["self", "queue_name"]
    assert isinstance(moto_hooks.original((moto_hooks.SQS_MODELS, "Queue", "pending_message_groups")), property)
    assert "currently_pending_groups = deepcopy(queue.pending_message_groups)" in inspect.getsource(
        moto_hooks.original((moto_hooks.SQS_MODELS, "SQSBackend", "receive_message"))
    )
    assert "self._pending_messages" in inspect.getsource(Queue.__init__)
    assert isinstance(Queue.pending_messages, property)
    assert "time.sleep(interval_seconds)" in inspect.getsource(retrier_decl.RetrierDecl._eval_body)
    assert params(retrier_decl.RetrierDecl._eval_body) == ["self", "env"]  # the backoff reads `env` from it
    assert "datetime.datetime.now()" in inspect.getsource(Timestamp._get_wait_seconds)


def test_uninstall_restores_moto(clock: WarpClock) -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.sqs import models as sqs_models

    original_invoke, original_time = LambdaSimpleBackend.invoke, sqs_models.unix_time
    moto_hooks.install(moto_hooks.HookTargets(clock, lambda *a: b"", lambda *a: None, lambda *a: None, lambda t: None))
    assert LambdaSimpleBackend.invoke is not original_invoke
    moto_hooks.uninstall()
    assert LambdaSimpleBackend.invoke is original_invoke
    assert sqs_models.unix_time is original_time


# -- Lambda ----------------------------------------------------------------------------------


def test_lambda_invoke_reaches_the_registry_with_function_errors(calls: Calls) -> None:
    def respond(function: str, event: Any, headers: dict[str, Any]) -> bytes:
        headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": "Boom", "errorMessage": "no"}).encode()

    ok = client("lambda").invoke(FunctionName="some-fn", Payload=b'{"a": 1}')
    assert json.loads(ok["Payload"].read()) == {"echo": {"a": 1}}
    calls.respond = respond
    failed = client("lambda").invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:some-fn")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "Boom"
    assert [name for name, _ in calls.invoked] == ["some-fn", "arn:aws:lambda:us-east-1:123456789012:function:some-fn"]


def test_sns_lambda_subscriptions_reach_the_registry(calls: Calls) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:123456789012:function:on-sns")
    sns.publish(TopicArn=topic, Message="hello", Subject="s")
    function, event, source = calls.async_invoked[0]
    assert function == "on-sns"
    assert source == "sns"
    assert event["Records"][0]["Sns"]["Message"] == "hello"


def test_s3_lambda_notifications_reach_the_registry(calls: Calls) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="uploads-bucket")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:on-upload"
    s3.put_bucket_notification_configuration(
        Bucket="uploads-bucket",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3.put_object(Bucket="uploads-bucket", Key="k.txt", Body=b"x")
    function, event, source = calls.async_invoked[0]
    assert (function, source) == (arn, "s3")
    assert event["Records"][0]["s3"]["object"]["key"] == "k.txt"


# -- EventBridge ----------------------------------------------------------------------------


def test_put_events_hands_each_rule_and_event_to_the_dispatcher(calls: Calls, clock: WarpClock) -> None:
    events, sqs = client("events"), client("sqs")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    events.create_event_bus(Name="bus")
    events.put_rule(Name="r", EventBusName="bus", EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(Rule="r", EventBusName="bus", Targets=[{"Id": "1", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}])
    clock.advance(86400)
    events.put_events(Entries=[{"EventBusName": "bus", "Source": "x", "DetailType": "T", "Detail": '{"k": 1}'}])
    rule, event = calls.rules[0]
    assert rule.name == "r"
    assert rule.event_pattern.dump() == json.dumps({"source": ["x"]})
    assert rule.targets[0]["Arn"].endswith(":q")
    assert rule.state == "ENABLED"
    assert rule.arn == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/bus/r"
    assert {"id", "detail-type", "source", "account", "time", "region", "resources", "detail"} <= set(event)
    assert abs(float(event["time"]) - clock.now()) < 5  # the warp clock, not real time
    # moto's own delivery is replaced: nothing reached the queue by itself.
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)


def test_the_scheduler_reads_rules_and_schedules_from_moto_backends(calls: Calls) -> None:
    from moto.events.models import events_backends
    from moto.scheduler.models import scheduler_backends

    client("events").put_rule(Name="tick", ScheduleExpression="rate(5 minutes)")
    rule = events_backends[ACCOUNT][REGION].event_buses["default"].rules["tick"]
    assert rule.scheduled_expression == "rate(5 minutes)"
    assert rule.state == "ENABLED"
    assert rule.targets == []
    scheduler = client("scheduler")
    scheduler.create_schedule_group(Name="g")
    scheduler.create_schedule(
        Name="s",
        GroupName="g",
        ScheduleExpression="cron(0 9 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "RoleArn": "arn:aws:iam::1:role/r",
            "Input": "{}",
        },
        ActionAfterCompletion="DELETE",
    )
    schedule = scheduler_backends[ACCOUNT][REGION].schedule_groups["g"].schedules["s"]
    assert schedule.arn.endswith(":schedule/g/s")
    assert schedule.group_name == "g"
    assert schedule.name == "s"
    assert schedule.schedule_expression == "cron(0 9 * * ? *)"
    assert schedule.schedule_expression_timezone == "Europe/Berlin"
    assert schedule.target["Arn"].endswith(":function:f")
    assert schedule.target["Input"] == "{}"
    assert schedule.state == "ENABLED"
    assert schedule.action_after_completion == "DELETE"
    assert schedule.start_date is None
    assert schedule.end_date is None


# -- SQS --------------------------------------------------------------------------------------


def test_sqs_visibility_and_redrive_follow_the_warp_clock(calls: Calls, clock: WarpClock) -> None:
    sqs = client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="work",
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    first = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert abs(int(first["Attributes"]["SentTimestamp"]) - clock.now_ms()) < 5000
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)
    clock.advance(31)
    second = sqs.receive_message(QueueUrl=queue, MessageSystemAttributeNames=["All"])["Messages"][0]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"
    clock.advance(31)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)  # moved on this receive
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "m"


def test_a_clock_jump_can_wake_a_long_poll_at_once(calls: Calls, clock: WarpClock) -> None:
    import threading

    sqs = client("sqs")
    queue = sqs.create_queue(QueueName="slow", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    sqs.receive_message(QueueUrl=queue)
    received: list[float] = []

    def long_poll() -> None:
        sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)
        received.append(time.monotonic())

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.2)
    clock.advance(31)
    woken = time.monotonic()
    moto_hooks.wake_long_polls("slow")
    poller.join(5)
    assert received
    assert received[0] - woken < 0.5


# -- DynamoDB streams ----------------------------------------------------------------------------


def test_stream_writes_wake_the_stream_pollers(calls: Calls) -> None:
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})
    assert calls.stream_writes == ["t"]
    stream = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    streams = client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    assert streams.get_records(ShardIterator=iterator)["Records"][0]["eventName"] == "INSERT"


# -- Step Functions ---------------------------------------------------------------------------------


FLOW = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:step", "Payload.$": "$"},
            "ResultSelector": {"value.$": "$.Payload"},
            "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 60, "MaxAttempts": 2}],
            "Next": "Hold",
        },
        "Hold": {"Type": "Wait", "Seconds": 86400, "Next": "Until"},
        "Until": {"Type": "Wait", "TimestampPath": "$.value.until", "End": True},
    },
}


def test_lambda_tasks_retries_and_waits_run_on_the_warp_clock(calls: Calls, clock: WarpClock) -> None:
    attempts: list[int] = []

    def respond(function: str, event: Any, headers: dict[str, Any]) -> bytes:
        attempts.append(1)
        if len(attempts) == 1:
            headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": "TransientError", "errorMessage": "try again"}).encode()
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock.now() + 2 * 86400))
        return json.dumps({"until": until}).encode()

    calls.respond = respond
    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(
        name="m", definition=json.dumps(FLOW), roleArn="arn:aws:iam::123456789012:role/r"
    )
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="e1", input="{}")["executionArn"]

    def status() -> str:
        return str(sfn.describe_execution(executionArn=execution)["status"])

    _until(lambda: len(attempts) == 1)
    time.sleep(0.2)
    assert len(attempts) == 1
    assert status() == "RUNNING"
    clock.advance(60)
    _until(lambda: len(attempts) == 2)
    time.sleep(0.2)
    assert status() == "RUNNING"  # in the one-day Wait
    clock.advance(86400)
    time.sleep(0.3)
    assert status() == "RUNNING"  # in the Wait until a timestamp one more day ahead
    clock.advance(86400)
    _until(lambda: status() == "SUCCEEDED")
    assert calls.invoked[0][0] == "arn:aws:lambda:us-east-1:123456789012:function:step"


def test_deferring_moto_batch_keeps_ec2_out_of_the_step_functions_import() -> None:
    script = (
        "import sys\n"
        "from localcloud.moto_hooks import defer_batch_package\n"
        "assert defer_batch_package()\n"
        "import moto.stepfunctions.parser.asl.parse.asl_parser\n"
        "assert 'moto.ec2.models' not in sys.modules, 'moto.batch.__init__ ran'\n"
        "import moto.batch\n"
        "assert moto.batch.batch_backends is not None\n"
        "assert 'moto.batch.models' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_fifo_groups_are_redelivered_in_order_after_a_failed_batch(calls: Calls, clock: WarpClock) -> None:
    sqs = client("sqs")
    queue = sqs.create_queue(
        QueueName="orders.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "10"},
    )["QueueUrl"]
    for body in ("1", "2", "3"):
        sqs.send_message(QueueUrl=queue, MessageBody=body, MessageGroupId="g")
    first = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in first] == ["1", "2", "3"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)  # the group is in flight
    clock.advance(11)  # none was deleted: the whole batch comes back, in order
    assert moto_hooks.deliverable_messages("orders.fifo") == 3
    again = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in again] == ["1", "2", "3"]
    assert moto_hooks.deliverable_messages("orders.fifo") == 0
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=again[0]["ReceiptHandle"])
    sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=again[2]["ReceiptHandle"], VisibilityTimeout=0)
    time.sleep(0.01)
    assert moto_hooks.deliverable_messages("orders.fifo") == 0  # "3" waits behind the in-flight "2"


def test_concurrent_dynamodb_writes_and_transactions_do_not_trip_over_each_other(calls: Calls) -> None:
    # Unhooked, moto's transact_write_items deep-copies the table while the other threads write to
    # it and fails with "dictionary changed size during iteration" (reproduced with these numbers).
    import threading

    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    errors: list[str] = []

    def transactions(n: int) -> None:
        try:
            for i in range(60):
                items = [
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"tx{n}"}, "sk": {"S": f"{i}-{j}"}}}}
                    for j in range(5)
                ]
                dynamodb.transact_write_items(TransactItems=items)
        except Exception as exc:
            errors.append(repr(exc))

    def puts(n: int) -> None:
        try:
            for i in range(250):
                dynamodb.put_item(TableName="t", Item={"pk": {"S": f"p{n}-{i}"}, "sk": {"S": "x"}})
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=transactions, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=puts, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert dynamodb.scan(TableName="t", Select="COUNT")["Count"] == 2 * 60 * 5 + 3 * 250


def test_a_stream_reader_never_sees_the_records_of_a_cancelled_transaction(calls: Calls) -> None:
    # moto appends a transaction's stream records as it goes and, when a later condition fails, puts
    # back a copy of the table from before; a poller woken by the first append (another thread, as in
    # the local cloud) read that record, stepped past the restored stream and then missed new writes.
    import threading

    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "taken"}})
    stream = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    streams = client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    seen: list[list[str]] = []

    def poll() -> None:
        seen.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=iterator)["Records"]])

    readers: list[threading.Thread] = []

    def woken(table: str) -> None:  # what the local cloud's stream poller does when a write wakes it
        reader = threading.Thread(target=poll)
        readers.append(reader)
        reader.start()
        reader.join(timeout=0.5)  # unhooked, the read completes here, in the middle of the transaction

    calls.stream_writes = []
    original = moto_hooks._targets
    assert original is not None
    moto_hooks._targets = dataclasses.replace(original, on_stream_write=woken)
    try:
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
                    {
                        "Put": {
                            "TableName": "t",
                            "Item": {"pk": {"S": "taken"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
    finally:
        moto_hooks._targets = original
    for reader in readers:
        reader.join()
    assert readers
    assert seen == [["taken"]] * len(readers)  # the first write only, never the cancelled "new"
    # The rollback copies share the one shard (copying a long stream made every transaction slower).
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ACCOUNT][REGION].tables["t"]
    assert copy.deepcopy(table).stream_shard is table.stream_shard
    # ...and the stream goes on: a later write reaches the same reader's iterator.
    following = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "later"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=following)["Records"]] == [
        "later"
    ]
