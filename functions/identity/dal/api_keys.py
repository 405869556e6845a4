"""API keys in identity's table: the workspace's rows and the platform lookup by hash.

Keys (pk / sk)
* `T#<tenant>#API_KEYS` / `key#<key_id>`   the key as its workspace sees it: name, prefix, scopes,
  creator, dates, `status` (`active` | `revoked`), `token_hash`; `ttl` = 90 days after it
  expires or is revoked (expiry itself is checked in code)
* `P#api-key#<sha256(key)>` / `key`        the authorizer's lookup: tenant_id, key_id; `ttl` = expiry.
  Revocation deletes it.

Both rows are written in the transaction that creates the key (with `api_key.created`); revocation
marks the tenant row and deletes the lookup row in one transaction (with `api_key.revoked`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ninefold_core.dynamo import PlatformRepository, TenantRepository, serialize
from ninefold_core.tenant import TenantContext

API_KEYS_PK = ("API_KEYS",)
LOOKUP_NAMESPACE = "api-key"
LOOKUP_SK = "key"
ACTIVE = "active"
REVOKED = "revoked"


def _sk(key_id: str) -> str:
    return f"key#{key_id}"


class ApiKeyLookup:
    """`P#api-key#<hash>`: which workspace and key a presented secret stands for."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.repo = PlatformRepository(table_name, LOOKUP_NAMESPACE, client)

    def get(self, token_hash: str) -> dict[str, Any] | None:
        # Consistent: a key is used the moment its creation returns it, and refused once revoked.
        return self.repo.get((token_hash,), LOOKUP_SK, consistent=True)


class ApiKeyStore:
    """One workspace's API keys (tenant rows), plus the lookup rows they own."""

    def __init__(self, table_name: str, ctx: TenantContext, client: Any | None = None) -> None:
        self.repo = TenantRepository(table_name, ctx, client)
        self.lookup = ApiKeyLookup(table_name, self.repo.client)

    def get(self, key_id: str) -> dict[str, Any] | None:
        return self.repo.get(API_KEYS_PK, _sk(key_id), consistent=True)

    def all(self) -> Iterator[dict[str, Any]]:
        return self.repo.query_all(API_KEYS_PK, sk_prefix="key#")

    def create_ops(self, row: Mapping[str, Any], *, ttl: int) -> list[dict[str, Any]]:
        """The lookup row (expiring with the key) and the workspace's row; both must be new."""
        lookup = {"tenant_id": self.repo.ctx.tenant_id, "key_id": row["key_id"], "expires_at": row["expires_at"]}
        return [
            self.lookup.repo.put_op(
                (row["token_hash"],), LOOKUP_SK, lookup, if_absent=True, ttl=int(row["expires_at"])
            ),
            self.repo.put_op(API_KEYS_PK, _sk(row["key_id"]), row, if_absent=True, ttl=ttl),
        ]

    def revoke_ops(self, row: Mapping[str, Any], *, revoked_at: int, revoked_by: str, ttl: int) -> list[dict[str, Any]]:
        """Mark the row revoked (only if it is still active) and delete its lookup row.

        The lookup delete is unconditional: after expiry TTL may already have removed it.
        """
        changes = {"status": REVOKED, "revoked_at": revoked_at, "revoked_by": revoked_by, "ttl": ttl}
        return [
            self.repo.update_op(API_KEYS_PK, _sk(row["key_id"]), changes, expected={"status": ACTIVE}),
            self.lookup.repo.delete_op((row["token_hash"],), LOOKUP_SK),
        ]

    def touch(self, row: Mapping[str, Any], *, now: int) -> bool:
        """Record a use; False when a concurrent request already did (or the row is gone).

        Guarded by the `last_used_at` this request read, like a session's idle window, so that of
        requests racing in the same minute only one writes. The request names only `pk`, `sk` and
        `last_used_at` (the authorizer's IAM grant can be that narrow) and reads nothing back.
        """
        seen = row.get("last_used_at")
        names = {"#seen": "last_used_at"}
        values: dict[str, Any] = {":now": now}
        condition = "attribute_exists(pk) AND "
        if seen is None:
            condition += "attribute_not_exists(#seen)"
        else:
            condition += "#seen = :seen"
            values[":seen"] = int(seen)
        client = self.repo.client
        try:
            client.update_item(
                TableName=self.repo.table_name,
                Key=serialize({"pk": self.repo.key(*API_KEYS_PK), "sk": _sk(row["key_id"])}),
                UpdateExpression="SET #seen = :now",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=serialize(values),
                ReturnValues="NONE",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def is_active(row: Mapping[str, Any]) -> bool:
    return row.get("status") == ACTIVE
