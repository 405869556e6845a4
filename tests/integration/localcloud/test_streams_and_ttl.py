"""DynamoDB stream mapping (with its filter) and TTL deletions by the warp clock."""

from __future__ import annotations

import time

import pytest

from localcloud import LocalCloud
from tests.fixtures.localcloud.handlers import recorder

pytestmark = pytest.mark.integration


def test_stream_records_reach_the_function_in_lambdas_shape(cloud: LocalCloud) -> None:
    table = cloud.resource("Fixture-Core/Table")
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=table.name, Item={"pk": {"S": "T#t1"}, "sk": {"S": "A"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table.name, Item={"pk": {"S": "X#other"}, "sk": {"S": "A"}})  # filtered out
    dynamodb.update_item(
        TableName=table.name,
        Key={"pk": {"S": "T#t1"}, "sk": {"S": "A"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "2"}},
    )
    cloud.wait_idle(timeout=30)
    records = recorder.get("stream")
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    insert, modify = records
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventVersion"] == "1.1"
    assert insert["eventSourceARN"] == table.attributes["StreamArn"]
    assert insert["dynamodb"]["Keys"] == {"pk": {"S": "T#t1"}, "sk": {"S": "A"}}
    assert insert["dynamodb"]["NewImage"]["n"] == {"N": "1"}
    assert modify["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    assert modify["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert modify["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], float)


def test_expired_items_are_deleted_by_the_ttl_attribute_under_time_warp(cloud: LocalCloud) -> None:
    table = cloud.resource("Fixture-Core/Table").name
    dynamodb = cloud.client("dynamodb")
    expires = int(cloud.clock.now()) + 3600
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "T#ttl"}, "sk": {"S": "old"}, "expires_at": {"N": str(expires)}}
    )
    dynamodb.put_item(
        TableName=table, Item={"pk": {"S": "T#ttl"}, "sk": {"S": "new"}, "expires_at": {"N": str(expires + 86400)}}
    )
    cloud.wait_idle(timeout=30)
    time.sleep(0.1)
    assert "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": "T#ttl"}, "sk": {"S": "old"}})
    recorder.clear()
    cloud.clock.advance(3601)
    cloud.wait_idle(timeout=30)
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": "T#ttl"}, "sk": {"S": "old"}})
    assert "Item" in dynamodb.get_item(TableName=table, Key={"pk": {"S": "T#ttl"}, "sk": {"S": "new"}})
    removed = [r for r in recorder.get("stream") if r["eventName"] == "REMOVE"]
    assert len(removed) == 1
    assert removed[0]["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert removed[0]["dynamodb"]["Keys"]["sk"] == {"S": "old"}
