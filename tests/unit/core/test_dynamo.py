from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ninefold_core import aws
from ninefold_core.dynamo import ConditionFailed, PlatformRepository, TenantRepository
from ninefold_core.errors import BadRequest
from ninefold_core.tenant import TenantContext

A = TenantContext(tenant_id="ws_aaaaaaaaaa", user_id="ua")
B = TenantContext(tenant_id="ws_bbbbbbbbbb", user_id="ub")

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-#:", min_size=1, max_size=20)


def raw_item(table: str, pk: str, sk: str) -> dict[str, object] | None:
    item = aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
    return item


def test_every_key_starts_with_the_callers_tenant(table: str) -> None:
    repo = TenantRepository(table, A)
    repo.put(("NOTE", "n1"), "note", {"text": "hello"}, gsi={"gsi1": (("BY_AUTHOR", "ua"), "n1")})
    item = raw_item(table, "T#ws_aaaaaaaaaa#NOTE#n1", "note")
    assert item is not None
    assert item["gsi1pk"] == {"S": "T#ws_aaaaaaaaaa#BY_AUTHOR#ua"}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(collection=ids, object_id=ids)
def test_tenant_b_never_reads_tenant_a_items_whatever_the_ids(table: str, collection: str, object_id: str) -> None:
    TenantRepository(table, A).put((collection, object_id), "x", {"secret": "a"})
    b = TenantRepository(table, B)
    assert b.get((collection, object_id), "x") is None
    assert b.query((collection, object_id)).items == []


def test_key_attributes_cannot_be_smuggled_in(table: str) -> None:
    repo = TenantRepository(table, A)
    with pytest.raises(ValueError, match="key attribute"):
        repo.put(("NOTE", "n1"), "note", {"pk": "T#ws_bbbbbbbbbb#NOTE#n1"})
    with pytest.raises(ValueError, match="key attribute"):
        repo.update(("NOTE", "n1"), "note", {"gsi1pk": "T#ws_bbbbbbbbbb#X"})


def test_a_cursor_from_another_partition_is_refused(table: str) -> None:
    b = TenantRepository(table, B)
    for i in range(3):
        b.put(("NOTE",), f"n{i}", {"i": i})
    page = b.query(("NOTE",), limit=1)
    assert page.cursor is not None
    with pytest.raises(BadRequest):
        TenantRepository(table, A).query(("NOTE",), limit=1, cursor=page.cursor)
    with pytest.raises(BadRequest):
        b.query(("NOTE",), cursor="not-a-cursor!!")


def test_pagination_walks_every_item_once(table: str) -> None:
    repo = TenantRepository(table, A)
    for i in range(7):
        repo.put(("NOTE",), f"n{i}", {"i": i, "ratio": 0.5})
    seen, cursor = [], None
    while True:
        page = repo.query(("NOTE",), limit=3, cursor=cursor)
        seen += [item["i"] for item in page.items]
        cursor = page.cursor
        if not cursor:
            break
    assert seen == list(range(7))
    assert repo.get(("NOTE",), "n1") == {"i": 1, "ratio": 0.5}


def test_conditional_writes_guard_invariants(table: str) -> None:
    repo = TenantRepository(table, A)
    repo.put(("DOC",), "d", {"version": 1}, if_absent=True)
    with pytest.raises(ConditionFailed):
        repo.put(("DOC",), "d", {"version": 1}, if_absent=True)
    repo.update(("DOC",), "d", {"version": 2}, expected={"version": 1})
    with pytest.raises(ConditionFailed):
        repo.update(("DOC",), "d", {"version": 3}, expected={"version": 1})
    with pytest.raises(ConditionFailed):
        repo.update(("MISSING",), "d", {"version": 1})


def test_a_transaction_writes_all_or_nothing(table: str) -> None:
    repo = TenantRepository(table, A)
    repo.put(("DOC",), "taken", {"v": 1})
    with pytest.raises(ConditionFailed):
        repo.transact(
            [repo.put_op(("DOC",), "new", {"v": 1}), repo.put_op(("DOC",), "taken", {"v": 2}, if_absent=True)]
        )
    assert repo.get(("DOC",), "new") is None


def test_platform_items_live_apart_from_tenant_items(table: str) -> None:
    PlatformRepository(table, "session").put(("abc",), "session", {"user_id": "u"})
    assert raw_item(table, "P#session#abc", "session") is not None
    with pytest.raises(ValueError, match="namespace"):
        PlatformRepository(table, "bad#namespace")


def test_empty_identifiers_are_a_bad_request(table: str) -> None:
    with pytest.raises(BadRequest):
        TenantRepository(table, A).get(("NOTE", ""), "x")


def test_a_platform_index_can_have_its_own_namespace(table: str) -> None:
    sessions = PlatformRepository(table, "session", index_namespaces={"gsi1": "user-sessions"})
    sessions.put(("hash1",), "session", {"session_id": "s1"}, gsi={"gsi1": (("usr_1",), "session#s1")})
    sessions.put(("hash2",), "session", {"session_id": "s2"}, gsi={"gsi1": (("usr_2",), "session#s2")})

    item = aws.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "P#session#hash1"}, "sk": {"S": "session"}}
    )
    assert item["Item"]["gsi1pk"] == {"S": "P#user-sessions#usr_1"}
    assert [i["session_id"] for i in sessions.query_all(("usr_1",), index="gsi1")] == ["s1"]
    with pytest.raises(ValueError, match="namespaces"):
        PlatformRepository(table, "session", index_namespaces={"gsi1": "bad#name"})


def test_a_conditional_transactional_delete_succeeds_once(table: str) -> None:
    repo = PlatformRepository(table, "token")
    repo.put(("t1",), "verify", {"user_id": "u1"})

    with pytest.raises(ConditionFailed):
        repo.transact([repo.delete_op(("t1",), "verify", expected={"user_id": "someone-else"})])
    repo.transact([repo.delete_op(("t1",), "verify", expected={"user_id": "u1"})])
    with pytest.raises(ConditionFailed):
        repo.transact([repo.delete_op(("t1",), "verify", must_exist=True)])
    repo.transact([repo.delete_op(("t1",), "verify")])  # unconditional: fine when absent


def test_increment_counts_atomically_from_nothing(table: str) -> None:
    repo = PlatformRepository(table, "throttle")
    assert repo.increment(("ip", "1.2.3.4"), "throttle", "failures", changes={"last": 5}, ttl=100) == 1
    assert repo.increment(("ip", "1.2.3.4"), "throttle", "failures", changes={"last": 6}, ttl=101) == 2
    assert repo.get(("ip", "1.2.3.4"), "throttle") == {"failures": 2, "last": 6, "ttl": 101}
    with pytest.raises(ValueError, match="key attribute"):
        repo.increment(("x",), "throttle", "pk")


def test_an_expected_none_means_the_attribute_is_absent(table: str) -> None:
    repo = PlatformRepository(table, "counter")
    repo.put(("c",), "c", {"calls": 3})
    # Only the first of two writers that both saw no `reported` commits.
    repo.transact([repo.update_op(("c",), "c", {"reported": 3}, expected={"calls": 3, "reported": None})])
    with pytest.raises(ConditionFailed):
        repo.transact([repo.update_op(("c",), "c", {"reported": 3}, expected={"calls": 3, "reported": None})])
    with pytest.raises(ConditionFailed):
        repo.transact([repo.delete_op(("c",), "c", expected={"reported": None})])
    repo.transact([repo.delete_op(("c",), "c", expected={"calls": 3})])
    assert repo.get(("c",), "c") is None


def test_deleting_a_partition_takes_only_that_tenants_partition(table: str) -> None:
    a, b = TenantRepository(table, A), TenantRepository(table, B)
    for n in range(30):  # more than one batch of 25
        a.put(("NOTES",), f"note#{n:02d}", {"n": n})
    b.put(("NOTES",), "note#00", {"n": 0})
    a.put(("OTHER",), "x", {"n": 0})
    assert a.delete_partition(("NOTES",)) == 30
    assert a.query(("NOTES",)).items == []
    assert a.get(("OTHER",), "x") is not None
    assert b.get(("NOTES",), "note#00") is not None
    assert a.delete_partition(("NOTES",)) == 0
