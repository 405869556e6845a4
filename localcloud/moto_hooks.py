"""Every place the local cloud reaches into moto 5.2.5's internals, in one module.

Each patch is pinned by `tests/unit/localcloud/test_moto_hooks.py`: a moto
upgrade that moves or changes one of these fails that test instead of quietly
turning the local cloud back into moto's defaults.

Patched (module: attribute -- why):
- awslambda_simple.models: LambdaSimpleBackend.invoke -- Invoke and Step Functions tasks run
  the in-process handlers;
- awslambda_simple.models: LambdaSimpleBackend.send_sns_message -- SNS -> Lambda subscriptions;
- s3.notifications: _invoke_awslambda -- S3 -> Lambda notifications;
- events.models: Rule.send_to_targets -- rule delivery to Lambda/SFN/SQS with patterns and
  Input/InputPath/InputTransformer;
- events.models: unix_time -- event `time` follows the warp clock;
- sqs.models: unix_time, unix_time_millis -- visibility timeouts, delays, retention follow it;
- sqs.models: SQSBackend.receive_message (prunes expired in-flight messages first) and
  Queue.pending_message_groups (only invisible messages keep a FIFO group in flight) -- moto counted
  expired messages as in flight, so after a failed batch it delivered a group's last message first;
- stepfunctions ... wait_function.WaitFunction._wait_interval -- Wait states sleep on it;
- stepfunctions ... timestamp.Timestamp._get_wait_seconds -- wait-until-timestamp measured on it;
- stepfunctions ... retry.retrier_decl: time -- Retry backoff sleeps on it;
- dynamodb.models.table: StreamShard.add -- stream pollers wake on writes instead of polling;
- dynamodb.models: DynamoDBBackend put_item, update_item, delete_item, transact_write_items,
  batch_write_item -- one lock around writes (moto's transactions deep-copy tables other threads
  are writing to);
- dynamodbstreams.models: DynamoDBStreamsBackend.get_records -- under the same lock, so a stream
  reader never sees the records of a transaction that is then cancelled; and a cancelled
  transaction keeps the table's one stream shard (moto would restore a copy of it, orphaning the
  pollers' iterators: the stream would look dead from then on);
- dynamodb.models.table: StreamShard.__deepcopy__ (added) -- the rollback copy moto takes at the
  start of every transaction shares the shard instead of copying the whole stream each time;
- sys.modules["moto.batch"] (a deferred package, set before import) -- start-up: the Step
  Functions parser would otherwise import moto.ec2 (~2 s).

Read-only internals (pinned as well): `scheduler_backends[...].schedule_groups`,
`events_backends[...].event_buses[...].rules` (the scheduler reads them), and an SQS queue's
`messages`/`pending_messages` (`deliverable_messages`, for `LocalCloud.settle`) and its
`_messages_lock` condition (`wake_long_polls`: a clock jump makes messages visible without
notifying long polls, which would otherwise notice only after their 1 s re-check).
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import sys
import threading
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localcloud.clock import WarpClock

LAMBDA_SIMPLE = "moto.awslambda_simple.models"
EVENTS_MODELS = "moto.events.models"
SQS_MODELS = "moto.sqs.models"
S3_NOTIFICATIONS = "moto.s3.notifications"
SFN_WAIT = "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function"
SFN_TIMESTAMP = "moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp"
SFN_RETRIER = "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl"
DYNAMODB_TABLE = "moto.dynamodb.models.table"
DYNAMODB_MODELS = "moto.dynamodb.models"
# moto's DynamoDB backend is not thread-safe: `transact_write_items` deep-copies every table it
# touches (for its rollback) while the server's other threads may be writing to them ("dictionary
# changed size during iteration"). DynamoDB itself serializes writes to an item; here every write
# takes one lock (re-entrant: a batch write calls put_item).
DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# A stream read takes the same lock: moto appends a transaction's stream records as it applies each
# operation and, when a condition fails, puts back a copy of the table taken before it (without
# them). A poller woken by the first append could otherwise read records of a transaction that
# is then cancelled, step past the end of the restored stream and miss what comes next.
DYNAMODB_STREAMS_MODELS = "moto.dynamodbstreams.models"

# (module, owner attribute or "", attribute): what `install` replaces.
HOOK_POINTS: tuple[tuple[str, str, str], ...] = (
    (LAMBDA_SIMPLE, "LambdaSimpleBackend", "invoke"),
    (LAMBDA_SIMPLE, "LambdaSimpleBackend", "send_sns_message"),
    (S3_NOTIFICATIONS, "", "_invoke_awslambda"),
    (EVENTS_MODELS, "Rule", "send_to_targets"),
    (EVENTS_MODELS, "EventsBackend", "put_events"),
    (EVENTS_MODELS, "", "unix_time"),
    (SQS_MODELS, "", "unix_time"),
    (SQS_MODELS, "", "unix_time_millis"),
    (SQS_MODELS, "Queue", "pending_message_groups"),
    (SQS_MODELS, "SQSBackend", "receive_message"),
    (SFN_WAIT, "WaitFunction", "_wait_interval"),
    (SFN_TIMESTAMP, "Timestamp", "_get_wait_seconds"),
    (SFN_RETRIER, "", "time"),
    (DYNAMODB_TABLE, "StreamShard", "add"),
    *((DYNAMODB_MODELS, "DynamoDBBackend", name) for name in DYNAMODB_WRITES),
    (DYNAMODB_STREAMS_MODELS, "DynamoDBStreamsBackend", "get_records"),
)


@dataclass
class HookTargets:
    clock: WarpClock
    invoke: Callable[[str, Any, Any, dict[str, Any]], bytes]  # (function, body, headers, response headers)
    invoke_async: Callable[[str, Any, str], None]  # (function, event, source)
    on_rule: Callable[[Any, dict[str, Any]], None]  # (moto Rule, event)
    on_stream_write: Callable[[str], None]  # (table name)
    on_put_event: Callable[[dict[str, Any]], None] | None = None  # (accepted PutEvents entry)


_targets: HookTargets | None = None
_originals: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


_ABSENT = object()  # an attribute the hook adds rather than replaces


def active() -> HookTargets | None:
    return _targets


def install(targets: HookTargets) -> None:
    global _targets
    with _lock:
        _targets = targets
        if _originals:
            return
        replacements: dict[tuple[str, str, str], Any] = {
            (LAMBDA_SIMPLE, "LambdaSimpleBackend", "invoke"): _lambda_invoke,
            (LAMBDA_SIMPLE, "LambdaSimpleBackend", "send_sns_message"): _send_sns_message,
            (S3_NOTIFICATIONS, "", "_invoke_awslambda"): _s3_invoke_lambda,
            (EVENTS_MODELS, "Rule", "send_to_targets"): _send_to_targets,
            (EVENTS_MODELS, "EventsBackend", "put_events"): _put_events,
            (EVENTS_MODELS, "", "unix_time"): _unix_time,
            (SQS_MODELS, "", "unix_time"): _unix_time,
            (SQS_MODELS, "", "unix_time_millis"): _unix_time_millis,
            (SQS_MODELS, "Queue", "pending_message_groups"): property(_pending_message_groups),
            (SQS_MODELS, "SQSBackend", "receive_message"): _receive_message,
            (SFN_WAIT, "WaitFunction", "_wait_interval"): _wait_interval,
            (SFN_TIMESTAMP, "Timestamp", "_get_wait_seconds"): _timestamp_wait_seconds,
            (SFN_RETRIER, "", "time"): _WarpTime(),
            (DYNAMODB_TABLE, "StreamShard", "add"): _stream_shard_add,
            **{(DYNAMODB_MODELS, "DynamoDBBackend", name): _serialized(name) for name in DYNAMODB_WRITES},
            (DYNAMODB_MODELS, "DynamoDBBackend", "transact_write_items"): _transaction_keeping_streams,
            (DYNAMODB_STREAMS_MODELS, "DynamoDBStreamsBackend", "get_records"): _committed_stream_records,
            # Added, not replaced (see _transaction_keeping_streams).
            (DYNAMODB_TABLE, "StreamShard", "__deepcopy__"): _shared_stream_shard,
        }
        for point, replacement in replacements.items():
            owner = _owner(point)
            _originals[point] = getattr(owner, point[2], _ABSENT)
            setattr(owner, point[2], replacement)


def uninstall() -> None:
    global _targets
    with _lock:
        for point, original in _originals.items():
            if original is _ABSENT:
                delattr(_owner(point), point[2])
            else:
                setattr(_owner(point), point[2], original)
        _originals.clear()
        _targets = None


def original(point: tuple[str, str, str]) -> Any:
    return _originals.get(point) or getattr(_owner(point), point[2])


def _owner(point: tuple[str, str, str]) -> Any:
    module = importlib.import_module(point[0])
    return getattr(module, point[1]) if point[1] else module


# -- Lambda ---------------------------------------------------------------------


def _lambda_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> Any:
    targets = _targets
    if targets is None:
        return _originals[(LAMBDA_SIMPLE, "LambdaSimpleBackend", "invoke")](
            self, function_name, qualifier, body, headers, response_headers
        )
    return targets.invoke(function_name, body, headers, response_headers)


def _send_sns_message(
    self: Any, function_name: str, message: str, subject: str | None = None, qualifier: str | None = None
) -> None:
    targets = _targets
    if targets is None:
        return None
    now = dt.datetime.fromtimestamp(targets.clock.now(), tz=dt.UTC)
    event = {
        "Records": [
            {
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"arn:aws:sns:us-east-1:123456789012:local:{uuid.uuid4()}",
                "EventSource": "aws:sns",
                "Sns": {
                    "SignatureVersion": "1",
                    "Timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "Signature": "LOCAL",
                    "SigningCertUrl": "",
                    "MessageId": str(uuid.uuid4()),
                    "Message": message,
                    "MessageAttributes": {},
                    "Type": "Notification",
                    "UnsubscribeUrl": "",
                    "TopicArn": "",
                    "Subject": subject,
                },
            }
        ]
    }
    targets.invoke_async(function_name, event, "sns")
    return None


def _s3_invoke_lambda(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    targets = _targets
    if targets is not None:
        targets.invoke_async(fn_arn, event_body, "s3")


# -- EventBridge ----------------------------------------------------------------------


def _send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
    targets = _targets
    if targets is None:
        _originals[(EVENTS_MODELS, "Rule", "send_to_targets")](self, original_event, transform_input)
        return
    targets.on_rule(self, original_event)


def _put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = _originals[(EVENTS_MODELS, "EventsBackend", "put_events")](self, events)
    targets = _targets
    if targets is not None and targets.on_put_event is not None:
        for event, entry in zip(events, entries, strict=False):
            if "EventId" in entry:
                targets.on_put_event(event)
    return entries


# -- time -------------------------------------------------------------------------------


def _unix_time(date: Any = None) -> float:
    targets = _targets
    if date is not None or targets is None:
        from moto.core.utils import unix_time

        return float(unix_time(date))
    return targets.clock.now()


def _unix_time_millis(date: Any = None) -> float:
    targets = _targets
    if date is not None or targets is None:
        from moto.core.utils import unix_time_millis

        return float(unix_time_millis(date))
    return targets.clock.now() * 1000.0


def _pending_message_groups(self: Any) -> set[str]:
    return {m.group_id for m in self._pending_messages if m.group_id is not None and not m.visible}


def _receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
    # A message whose visibility timeout ran out is no longer in flight. moto only notices that
    # while walking the queue, after it has already skipped the group's earlier messages.
    queue = self.get_queue(queue_name)
    for message in list(queue.pending_messages):
        if message.visible:
            queue.pending_messages.discard(message)
    return _originals[(SQS_MODELS, "SQSBackend", "receive_message")](self, queue_name, *args, **kwargs)


def deliverable_messages(queue_name: str, account: str = "123456789012", region: str = "us-east-1") -> int:
    """Messages a receive would return now: visible, not delayed, and (FIFO) not behind an
    in-flight message of their group. No API tells a FIFO queue's locked messages apart."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].get_queue(queue_name)
    in_flight = {m.group_id for m in list(queue.pending_messages) if m.group_id is not None and not m.visible}
    return sum(1 for m in queue.messages if not (queue.fifo_queue and m.group_id in in_flight))


def wake_long_polls(queue_name: str, account: str = "123456789012", region: str = "us-east-1") -> None:
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].get_queue(queue_name)
    with queue._messages_lock:
        queue._messages_lock.notify_all()


def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    targets = _targets
    if targets is None:
        _originals[(SFN_WAIT, "WaitFunction", "_wait_interval")](self, env, wait_seconds)
        return
    if wait_seconds > 0:
        # Stopping an execution pulses `program_state_event` (set then clear), so
        # poll the state instead of the event.
        targets.clock.sleep(wait_seconds, cancelled=lambda: not env.is_running())


def _timestamp_wait_seconds(self: Any, env: Any) -> int:
    targets = _targets
    if targets is None:
        result: int = _originals[(SFN_TIMESTAMP, "Timestamp", "_get_wait_seconds")](self, env)
        return result
    self.string.eval(env=env)
    timestamp_text: str = env.stack.pop()
    timestamp = self._from_timestamp_string(timestamp=timestamp_text)
    if timestamp is None:
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException

        raise FailureEventException(self._create_failure_event(env, timestamp_text))
    # moto parses the "Z" timestamp into a naive datetime: it is UTC.
    return int(timestamp.replace(tzinfo=dt.UTC).timestamp() - targets.clock.now())


class _WarpTime(types.SimpleNamespace):
    """Stands in for the `time` module inside moto's retrier (only `sleep` is used)."""

    def sleep(self, seconds: float) -> None:
        targets = _targets
        if targets is None:
            import time

            time.sleep(seconds)
            return
        # The caller is RetrierDecl._eval_body(self, env): a stopped execution must
        # not stay parked in a backoff that only a clock jump would end.
        env = sys._getframe(1).f_locals.get("env")
        cancelled = (lambda: not env.is_running()) if env is not None and hasattr(env, "is_running") else None
        targets.clock.sleep(seconds, cancelled=cancelled)

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)


# -- DynamoDB streams ---------------------------------------------------------------------


def _stream_shard_add(self: Any, old: Any, new: Any) -> None:
    _originals[(DYNAMODB_TABLE, "StreamShard", "add")](self, old, new)
    targets = _targets
    if targets is not None:
        targets.on_stream_write(str(getattr(self.table, "name", "")))


_dynamodb_write_lock = threading.RLock()


def _serialized(name: str) -> Callable[..., Any]:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _dynamodb_write_lock:
            return _originals[(DYNAMODB_MODELS, "DynamoDBBackend", name)](self, *args, **kwargs)

    write.__name__ = name
    return write


def _shared_stream_shard(self: Any, memo: dict[int, Any]) -> Any:
    """A table's deep copy (taken by moto at the start of every transaction, for its rollback)
    shares the stream shard instead of copying every record the stream ever held: copying it made
    each transaction slower than the last as a table's stream grew."""
    return self


def _transaction_keeping_streams(self: Any, transact_items: Any, *args: Any, **kwargs: Any) -> Any:
    """moto cancels a transaction by putting back deep copies of its tables, taken before it. The
    copies share the one stream shard (`_shared_stream_shard`), which still holds the records the
    cancelled transaction appended: drop them, and hang the shard on the restored table, so the
    pollers' iterators keep reading the stream the table writes to."""
    names = {str(next(iter(op.values())).get("TableName")) for op in transact_items}
    with _dynamodb_write_lock:
        shards = {}
        for name in names:
            table = self.tables.get(name)
            shard = getattr(table, "stream_shard", None)
            if shard is not None:
                shards[name] = (table, shard, len(shard.items))
        try:
            return _originals[(DYNAMODB_MODELS, "DynamoDBBackend", "transact_write_items")](
                self, transact_items, *args, **kwargs
            )
        except Exception:
            for name, (table, shard, length) in shards.items():
                restored = self.tables.get(name)
                if restored is not None and restored is not table:
                    del shard.items[length:]
                    shard.table = restored
                    restored.stream_shard = shard
            raise


def _committed_stream_records(self: Any, *args: Any, **kwargs: Any) -> Any:
    with _dynamodb_write_lock:
        return _originals[(DYNAMODB_STREAMS_MODELS, "DynamoDBStreamsBackend", "get_records")](self, *args, **kwargs)


# -- start-up time ------------------------------------------------------------------------------


class _DeferredPackage(types.ModuleType):
    """A package whose `__init__` runs on first attribute access, not on a submodule import."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        self.__class__ = types.ModuleType  # type: ignore[assignment]  # from now on a plain module
        self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
        return getattr(self, name)


def defer_batch_package() -> bool:
    """Keep `moto/batch/__init__.py` (which imports moto.ec2: ~2 s) from running when the
    Step Functions parser imports only `moto.batch.utils.JobStatus`. Batch itself still loads
    on first use. Returns False when moto.batch was already imported."""
    if "moto.batch" in sys.modules:
        return False
    spec = importlib.util.find_spec("moto.batch")
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        return False
    package = _DeferredPackage("moto.batch")
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = "moto.batch"
    package.__spec__ = spec
    sys.modules["moto.batch"] = package
    moto_package = sys.modules.get("moto")
    if moto_package is not None:
        moto_package.batch = package  # type: ignore[attr-defined]  # as a real import would
    return True
