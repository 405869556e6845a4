"""Target input: Input, InputPath and InputTransformer as EventBridge renders them."""

from __future__ import annotations

from typing import Any

import pytest

from localcloud.transform import MISSING, TransformError, json_path, render_transformer, target_input

pytestmark = pytest.mark.unit

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "e-1",
    "detail-type": "OrderPlaced",
    "source": "ninefold.orders",
    "time": "2026-01-01T00:00:00Z",
    "detail": {"id": "o-1", "amount": 150, "paid": True, "meta": {"a": 1}, "items": [{"sku": "x"}, {"sku": "y"}]},
}


def transformer(template: str, **paths: str) -> dict[str, Any]:
    return {"InputTemplate": template, "InputPathsMap": paths}


def test_no_input_settings_deliver_the_whole_event() -> None:
    assert target_input({"Id": "t", "Arn": "a"}, EVENT) == EVENT


def test_constant_input_is_parsed_json() -> None:
    assert target_input({"Input": '{"kind": "hourly"}'}, EVENT) == {"kind": "hourly"}


def test_input_path_selects_part_of_the_event() -> None:
    assert target_input({"InputPath": "$.detail"}, EVENT) == EVENT["detail"]
    assert target_input({"InputPath": "$.detail.items[1].sku"}, EVENT) == "y"
    assert target_input({"InputPath": "$.detail.nope"}, EVENT) is None


def test_json_path_subset() -> None:
    assert json_path(EVENT, "$") == EVENT
    assert json_path(EVENT, "$.detail-type") == "OrderPlaced"
    assert json_path(EVENT, "$.detail.items[*].sku") == ["x", "y"]
    assert json_path(EVENT, "$['detail']['id']") == "o-1"
    assert json_path(EVENT, "$.missing") is MISSING


def test_unquoted_placeholders_get_json_values_with_strings_quoted() -> None:
    rendered = render_transformer(
        transformer(
            '{"id": <id>, "amount": <amount>, "paid": <paid>, "meta": <meta>}',
            id="$.detail.id",
            amount="$.detail.amount",
            paid="$.detail.paid",
            meta="$.detail.meta",
        ),
        EVENT,
    )
    assert rendered == {"id": "o-1", "amount": 150, "paid": True, "meta": {"a": 1}}


def test_placeholders_inside_strings_get_bare_text() -> None:
    rendered = render_transformer(
        transformer('{"text": "order <id> for <amount> (\\"<id>\\")"}', id="$.detail.id", amount="$.detail.amount"),
        EVENT,
    )
    assert rendered == {"text": 'order o-1 for 150 ("o-1")'}


def test_text_templates_are_plain_text() -> None:
    rendered = render_transformer(transformer("<id> is <amount>", id="$.detail.id", amount="$.detail.amount"), EVENT)
    assert rendered == "o-1 is 150"


def test_a_quoted_string_template_yields_that_string() -> None:
    # CDK's RuleTargetInput.fromText(...) writes the template as one JSON string.
    rendered = render_transformer(transformer('"Order <id> placed"', id="$.detail.id"), EVENT)
    assert rendered == "Order o-1 placed"


def test_predefined_variables() -> None:
    rendered = render_transformer(
        transformer(
            '{"rule": <aws.events.rule-name>, "at": <aws.events.event.ingestion-time>, "all": <aws.events.event.json>}'
        ),
        EVENT,
        rule_arn="arn:aws:events:us-east-1:123456789012:rule/r",
        rule_name="r",
    )
    assert rendered == {"rule": "r", "at": "2026-01-01T00:00:00Z", "all": EVENT}


def test_missing_paths_render_null_outside_and_nothing_inside_strings() -> None:
    rendered = render_transformer(transformer('{"a": <x>, "b": "[<x>]"}', x="$.detail.nope"), EVENT)
    assert rendered == {"a": None, "b": "[]"}


def test_a_template_that_is_not_json_after_substitution_is_an_error() -> None:
    with pytest.raises(TransformError):
        render_transformer(transformer('{"a": <x>', x="$.detail.id"), EVENT)
