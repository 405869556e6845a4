"""Tenant-scoped DynamoDB access.

Every Ninefold table uses `pk`/`sk` string keys. Keys are namespaced:

* `T#<tenant_id>#...` — tenant data. Only reachable through `TenantRepository`,
  which takes the tenant from a `TenantContext` and prefixes every key it builds,
  including GSI keys and pagination cursors. There is no Scan, and no method
  takes a raw key, so there is no way through it to another tenant's item.
* `P#<namespace>#...` — platform data that is not owned by a tenant (users who
  belong to several workspaces, session lookups, breaker state). Reached through
  `PlatformRepository`, which a system uses deliberately.

Writes that guard an invariant use condition expressions; several items that
must change together go through one transaction (`transact`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ninefold_core import aws
from ninefold_core.errors import BadRequest, Conflict
from ninefold_core.tenant import TenantContext

SEP = "#"
MAX_PAGE = 100


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    ser = _serializer()
    return {k: ser.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    de = _deserializer()
    return {k: _from_dynamo(de.deserialize(v)) for k, v in item.items()}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None = None


@dataclass
class Transaction:
    """Collects writes for one `TransactWriteItems` call (max 100 items)."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, op: dict[str, Any]) -> None:
        if len(self.items) >= 100:
            raise BadRequest("Too many changes in one request.")
        self.items.append(op)


class ConditionFailed(Conflict):
    """A guarded write found the item in another state than expected."""


def _expectations(expected: Mapping[str, Any] | None, names: dict[str, str], values: dict[str, Any]) -> list[str]:
    """Conditions that each `expected` attribute still has its value; `None` means it is absent."""
    conditions = []
    for i, (name, value) in enumerate((expected or {}).items()):
        names[f"#e{i}"] = name
        if value is None:
            conditions.append(f"attribute_not_exists(#e{i})")
        else:
            values[f":e{i}"] = value
            conditions.append(f"#e{i} = :e{i}")
    return conditions


def _key(prefix: str, parts: Sequence[str]) -> str:
    for part in parts:
        if not part:
            raise BadRequest("An identifier in the request is empty.")
    return SEP.join([prefix, *parts])


class _Repository:
    """Shared mechanics; subclasses decide the key prefix."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    # Subclasses implement: the prefix every pk/gsi pk starts with.
    def _prefix(self) -> str:
        raise NotImplementedError

    def key(self, *parts: str) -> str:
        return _key(self._prefix(), parts)

    def index_key(self, index: str, *parts: str) -> str:
        """The partition key of `index` for these parts (same prefix as the table unless overridden)."""
        return _key(self._index_prefix(index), parts)

    def _index_prefix(self, index: str) -> str:
        return self._prefix()

    def _keys(self, pk: Sequence[str], sk: str) -> dict[str, str]:
        return {"pk": self.key(*pk), "sk": sk}

    # --- reads -----------------------------------------------------------

    def get(self, pk: Sequence[str], sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=serialize(self._keys(pk, sk)), ConsistentRead=consistent
        )
        item = response.get("Item")
        return self._strip(deserialize(item)) if item else None

    def query(
        self,
        pk: Sequence[str],
        *,
        sk_prefix: str | None = None,
        index: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        newest_first: bool = False,
    ) -> Page:
        """One page of one partition (of the table or of a GSI whose key we also prefix)."""
        key_name, sort_name = ("pk", "sk") if index is None else (f"{index}pk", f"{index}sk")
        partition = self.key(*pk) if index is None else self.index_key(index, *pk)
        expression = "#p = :p"
        names = {"#p": key_name}
        values: dict[str, Any] = {":p": partition}
        if sk_prefix:
            expression += " AND begins_with(#s, :s)"
            names["#s"] = sort_name
            values[":s"] = sk_prefix
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "Limit": max(1, min(limit, MAX_PAGE)),
            "ScanIndexForward": not newest_first,
        }
        if index is not None:
            request["IndexName"] = index
        if cursor:
            request["ExclusiveStartKey"] = self._decode_cursor(cursor, key_name, partition)
        response = self.client.query(**request)
        items = [self._strip(deserialize(i)) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items=items, cursor=self._encode_cursor(last) if last else None)

    def query_all(
        self, pk: Sequence[str], *, sk_prefix: str | None = None, index: str | None = None
    ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = self.query(pk, sk_prefix=sk_prefix, index=index, cursor=cursor, limit=MAX_PAGE)
            yield from page.items
            if not page.cursor:
                return
            cursor = page.cursor

    # --- writes ----------------------------------------------------------

    def put(
        self,
        pk: Sequence[str],
        sk: str,
        attributes: Mapping[str, Any],
        *,
        if_absent: bool = False,
        gsi: Mapping[str, tuple[Sequence[str], str]] | None = None,
        ttl: int | None = None,
    ) -> dict[str, Any]:
        item = self._item(pk, sk, attributes, gsi=gsi, ttl=ttl)
        request: dict[str, Any] = {"TableName": self.table_name, "Item": serialize(item)}
        if if_absent:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            self.client.put_item(**request)
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed("It already exists.") from None
        return self._strip(item)

    def update(
        self,
        pk: Sequence[str],
        sk: str,
        changes: Mapping[str, Any],
        *,
        expected: Mapping[str, Any] | None = None,
        return_item: bool = True,
    ) -> dict[str, Any]:
        """Set attributes on an existing item; `expected` guards optimistic concurrency.

        With `return_item=False` nothing is read back (`ReturnValues=NONE`), so a role limited to
        some attributes (IAM `dynamodb:Attributes`) can make the write; the result is then empty.
        """
        request = self.update_op(pk, sk, changes, expected=expected)["Update"]
        try:
            response = self.client.update_item(**request, ReturnValues="ALL_NEW" if return_item else "NONE")
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed("It was changed or removed meanwhile.") from None
        return self._strip(deserialize(response["Attributes"])) if return_item else {}

    def increment(
        self,
        pk: Sequence[str],
        sk: str,
        counter: str,
        *,
        by: int = 1,
        changes: Mapping[str, Any] | None = None,
        ttl: int | None = None,
    ) -> int:
        """Atomically add `by` to `counter` (creating the item at 0), set `changes`; the new count."""
        self._check_attribute(counter)
        names: dict[str, str] = {"#c": counter}
        values: dict[str, Any] = {":by": by}
        sets = []
        for i, (name, value) in enumerate(
            {**(changes or {}), **({"ttl": int(ttl)} if ttl is not None else {})}.items()
        ):
            self._check_attribute(name)
            names[f"#a{i}"] = name
            values[f":a{i}"] = value
            sets.append(f"#a{i} = :a{i}")
        expression = "ADD #c :by" + (" SET " + ", ".join(sets) if sets else "")
        response = self.client.update_item(
            TableName=self.table_name,
            Key=serialize(self._keys(pk, sk)),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
            ReturnValues="UPDATED_NEW",
        )
        return int(deserialize(response["Attributes"])[counter])

    def delete(self, pk: Sequence[str], sk: str, *, must_exist: bool = False) -> None:
        request: dict[str, Any] = {"TableName": self.table_name, "Key": serialize(self._keys(pk, sk))}
        if must_exist:
            request["ConditionExpression"] = "attribute_exists(pk)"
        try:
            self.client.delete_item(**request)
        except self.client.exceptions.ConditionalCheckFailedException:
            raise ConditionFailed("It does not exist.") from None

    # --- transactions ----------------------------------------------------

    def delete_partition(self, pk: Sequence[str]) -> int:
        """Delete every item of one partition (purges); the number deleted. Idempotent."""
        partition = self.key(*pk)
        deleted = 0
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#p = :p",
            "ExpressionAttributeNames": {"#p": "pk", "#s": "sk"},
            "ExpressionAttributeValues": serialize({":p": partition}),
            "ProjectionExpression": "#p, #s",
        }
        while True:
            response = self.client.query(**request)
            keys = response.get("Items", [])
            for start in range(0, len(keys), 25):
                batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
                while batch:
                    result = self.client.batch_write_item(RequestItems={self.table_name: batch})
                    batch = result.get("UnprocessedItems", {}).get(self.table_name, [])
            deleted += len(keys)
            if "LastEvaluatedKey" not in response:
                return deleted
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def put_op(
        self,
        pk: Sequence[str],
        sk: str,
        attributes: Mapping[str, Any],
        *,
        if_absent: bool = False,
        gsi: Mapping[str, tuple[Sequence[str], str]] | None = None,
        ttl: int | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": serialize(self._item(pk, sk, attributes, gsi=gsi, ttl=ttl)),
        }
        if if_absent:
            op["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": op}

    def update_op(
        self, pk: Sequence[str], sk: str, changes: Mapping[str, Any], *, expected: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        if not changes:
            raise BadRequest("Nothing to change.")
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets = []
        for i, (name, value) in enumerate(changes.items()):
            self._check_attribute(name)
            names[f"#a{i}"] = name
            values[f":a{i}"] = value
            sets.append(f"#a{i} = :a{i}")
        conditions = ["attribute_exists(pk)", *_expectations(expected, names, values)]
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": serialize(self._keys(pk, sk)),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": serialize(values),
            }
        }

    def delete_op(
        self, pk: Sequence[str], sk: str, *, must_exist: bool = False, expected: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A transactional delete; `must_exist`/`expected` make it fail (and the transaction with it)
        when another writer got there first, which is what makes a one-time token single-use."""
        op: dict[str, Any] = {"TableName": self.table_name, "Key": serialize(self._keys(pk, sk))}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        conditions = ["attribute_exists(pk)"] if must_exist or expected else []
        conditions += _expectations(expected, names, values)
        if conditions:
            op["ConditionExpression"] = " AND ".join(conditions)
        if names:
            op["ExpressionAttributeNames"] = names
        if values:
            op["ExpressionAttributeValues"] = serialize(values)
        return {"Delete": op}

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        """All or nothing. A failed condition anywhere raises ConditionFailed."""
        if not operations:
            return
        try:
            self.client.transact_write_items(TransactItems=list(operations))
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                raise ConditionFailed("It was changed meanwhile; nothing was written.") from None
            raise

    # --- helpers ---------------------------------------------------------

    def _item(
        self,
        pk: Sequence[str],
        sk: str,
        attributes: Mapping[str, Any],
        *,
        gsi: Mapping[str, tuple[Sequence[str], str]] | None,
        ttl: int | None,
    ) -> dict[str, Any]:
        for name in attributes:
            self._check_attribute(name)
        item = {**attributes, **self._keys(pk, sk)}
        for index, (index_pk, index_sk) in (gsi or {}).items():
            item[f"{index}pk"] = self.index_key(index, *index_pk)
            item[f"{index}sk"] = index_sk
        if ttl is not None:
            item["ttl"] = int(ttl)
        return item

    @staticmethod
    def _check_attribute(name: str) -> None:
        # Key attributes are derived, never passed in: that is what keeps every
        # key inside the caller's tenant.
        if name in ("pk", "sk") or (name.endswith(("pk", "sk")) and name.startswith("gsi")):
            raise ValueError(f"{name} is a key attribute; pass key parts instead")

    @staticmethod
    def _strip(item: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v for k, v in item.items() if not (k in ("pk", "sk") or (k.startswith("gsi") and k[-2:] in ("pk", "sk")))
        }

    @staticmethod
    def _encode_cursor(last: Mapping[str, Any]) -> str:
        raw = json.dumps(deserialize(last), separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @staticmethod
    def _decode_cursor(cursor: str, key_name: str, partition: str) -> dict[str, Any]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (ValueError, TypeError):
            raise BadRequest("The pagination cursor is not valid.") from None
        # A cursor is only honoured for the partition it came from: a forged
        # cursor naming another tenant's partition is refused.
        if not isinstance(decoded, dict) or decoded.get(key_name) != partition:
            raise BadRequest("The pagination cursor is not valid.")
        return serialize(decoded)


class TenantRepository(_Repository):
    """Every key starts with `T#<tenant_id>` from the verified context."""

    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        super().__init__(table_name, client)
        self.ctx = ctx

    def _prefix(self) -> str:
        return f"T{SEP}{self.ctx.tenant_id}"


class PlatformRepository(_Repository):
    """Items no tenant owns, under `P#<namespace>`. Use deliberately.

    `index_namespaces` gives a GSI its own namespace: sessions live under `P#session#<hash>` but
    are listed per user under `gsi1pk = P#user-sessions#<user_id>`. GSI keys are still built here
    from parts, never passed in.
    """

    def __init__(
        self,
        table_name: str,
        namespace: str,
        client: Any | None = None,
        *,
        index_namespaces: Mapping[str, str] | None = None,
    ) -> None:
        for name in (namespace, *(index_namespaces or {}).values()):
            if not name or SEP in name:
                raise ValueError("namespaces must be non-empty words")
        super().__init__(table_name, client)
        self.namespace = namespace
        self.index_namespaces = dict(index_namespaces or {})

    def _prefix(self) -> str:
        return f"P{SEP}{self.namespace}"

    def _index_prefix(self, index: str) -> str:
        namespace = self.index_namespaces.get(index)
        return self._prefix() if namespace is None else f"P{SEP}{namespace}"
