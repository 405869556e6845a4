"""EventBridge event patterns, one behaviour per test (the user guide's examples)."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.patterns import PatternError, matches

pytestmark = pytest.mark.unit

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "1",
    "detail-type": "OrderPlaced",
    "source": "ninefold.orders",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:s3:::bucket/key.png"],
    "detail": {
        "amount": 150,
        "currency": "EUR",
        "state": "Running",
        "flag": True,
        "nothing": None,
        "ip": "10.0.0.7",
        "tags": ["a", "b"],
        "items": [{"sku": "x-1", "qty": 2}, {"sku": "y-2", "qty": 5}],
        "file": "photos/cat.png",
    },
}


def test_exact_values_and_lists_of_alternatives() -> None:
    assert matches({"source": ["ninefold.orders"]}, EVENT)
    assert matches({"source": ["other", "ninefold.orders"]}, EVENT)
    assert not matches({"source": ["other"]}, EVENT)
    assert matches({"detail": {"amount": [150]}}, EVENT)
    assert matches({"detail": {"amount": [150.0]}}, EVENT)


def test_types_are_not_coerced() -> None:
    assert not matches({"detail": {"amount": ["150"]}}, EVENT)
    assert not matches({"detail": {"flag": [1]}}, EVENT)
    assert matches({"detail": {"flag": [True]}}, EVENT)
    assert matches({"detail": {"nothing": [None]}}, EVENT)


def test_prefix_and_prefix_ignoring_case() -> None:
    assert matches({"source": [{"prefix": "ninefold."}]}, EVENT)
    assert not matches({"source": [{"prefix": "Ninefold."}]}, EVENT)
    assert matches({"source": [{"prefix": {"equals-ignore-case": "NINEFOLD."}}]}, EVENT)


def test_suffix_and_suffix_ignoring_case() -> None:
    assert matches({"detail": {"file": [{"suffix": ".png"}]}}, EVENT)
    assert not matches({"detail": {"file": [{"suffix": ".PNG"}]}}, EVENT)
    assert matches({"detail": {"file": [{"suffix": {"equals-ignore-case": ".PNG"}}]}}, EVENT)


def test_equals_ignore_case() -> None:
    assert matches({"detail": {"state": [{"equals-ignore-case": "RUNNING"}]}}, EVENT)
    assert not matches({"detail": {"state": [{"equals-ignore-case": "stopped"}]}}, EVENT)


def test_anything_but_values_lists_prefixes_and_suffixes() -> None:
    assert matches({"detail": {"state": [{"anything-but": "Stopped"}]}}, EVENT)
    assert not matches({"detail": {"state": [{"anything-but": ["Running", "Stopped"]}]}}, EVENT)
    assert matches({"detail": {"amount": [{"anything-but": [100, 200]}]}}, EVENT)
    assert not matches({"source": [{"anything-but": {"prefix": "ninefold."}}]}, EVENT)
    assert matches({"source": [{"anything-but": {"prefix": "aws."}}]}, EVENT)
    assert not matches({"detail": {"file": [{"anything-but": {"suffix": ".png"}}]}}, EVENT)
    assert not matches({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["running"]}}]}}, EVENT)


def test_anything_but_never_matches_a_missing_field() -> None:
    assert not matches({"detail": {"missing": [{"anything-but": "x"}]}}, EVENT)


def test_numeric_ranges() -> None:
    assert matches({"detail": {"amount": [{"numeric": [">", 100]}]}}, EVENT)
    assert matches({"detail": {"amount": [{"numeric": [">", 0, "<=", 150]}]}}, EVENT)
    assert not matches({"detail": {"amount": [{"numeric": ["<", 100]}]}}, EVENT)
    assert matches({"detail": {"amount": [{"numeric": ["=", 150]}]}}, EVENT)
    assert not matches({"detail": {"currency": [{"numeric": [">", 0]}]}}, EVENT)
    assert not matches({"detail": {"flag": [{"numeric": [">", 0]}]}}, EVENT)


def test_exists_only_sees_leaves() -> None:
    assert matches({"detail": {"currency": [{"exists": True}]}}, EVENT)
    assert matches({"detail": {"missing": [{"exists": False}]}}, EVENT)
    assert not matches({"detail": {"currency": [{"exists": False}]}}, EVENT)
    assert not matches({"detail": {"missing": [{"exists": True}]}}, EVENT)
    assert not matches({"detail": [{"exists": True}]}, EVENT)  # an object, not a leaf


def test_wildcard() -> None:
    assert matches({"detail": {"file": [{"wildcard": "photos/*.png"}]}}, EVENT)
    assert not matches({"detail": {"file": [{"wildcard": "videos/*"}]}}, EVENT)
    assert matches({"resources": [{"wildcard": "arn:aws:s3:::bucket/*"}]}, EVENT)
    assert not matches({"detail": {"file": [{"wildcard": "photos/cat\\*"}]}}, EVENT)


def test_cidr() -> None:
    assert matches({"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}, EVENT)
    assert not matches({"detail": {"ip": [{"cidr": "192.168.0.0/16"}]}}, EVENT)


def test_or_alternatives_at_any_level() -> None:
    pattern = {"detail": {"$or": [{"currency": ["USD"]}, {"amount": [{"numeric": [">", 100]}]}]}}
    assert matches(pattern, EVENT)
    assert not matches({"detail": {"$or": [{"currency": ["USD"]}, {"amount": [1]}]}}, EVENT)
    assert matches({"$or": [{"source": ["x"]}, {"detail-type": ["OrderPlaced"]}]}, EVENT)


def test_arrays_match_when_any_element_matches() -> None:
    assert matches({"detail": {"tags": ["b"]}}, EVENT)
    assert not matches({"detail": {"tags": ["c"]}}, EVENT)
    assert matches({"detail": {"items": {"sku": [{"prefix": "y-"}]}}}, EVENT)
    assert matches({"detail": {"items": {"qty": [{"numeric": [">", 4]}]}}}, EVENT)


def test_all_fields_must_match() -> None:
    assert matches({"source": ["ninefold.orders"], "detail": {"currency": ["EUR"]}}, EVENT)
    assert not matches({"source": ["ninefold.orders"], "detail": {"currency": ["USD"]}}, EVENT)


def test_no_pattern_matches_nothing_and_strings_are_parsed() -> None:
    assert not matches(None, EVENT)
    assert not matches("", EVENT)
    assert matches('{"detail-type": ["OrderPlaced"]}', EVENT)


def test_invalid_patterns_are_reported() -> None:
    with pytest.raises(PatternError):
        matches({"source": "not-a-list"}, EVENT)
    with pytest.raises(PatternError):
        matches({"source": [{"nonsense": 1}]}, EVENT)
