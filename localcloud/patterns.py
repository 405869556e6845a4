"""EventBridge event patterns (also used for event source mapping filters).

Written here instead of reusing moto's matcher because moto treats `true == 1`,
lets a rule without a pattern (a scheduled rule) match every event and does
not look inside arrays of objects. Semantics follow the EventBridge user guide:
a pattern field matches when any of its matchers matches any of the event's
values at that path (arrays are flattened), `exists` only sees leaf values and
an absent field only ever matches `{"exists": false}`.
"""

from __future__ import annotations

import ipaddress
import json
import operator
import re
from collections.abc import Callable
from typing import Any

_NUMERIC_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


class PatternError(ValueError):
    """The pattern is not a valid EventBridge pattern."""


def parse(pattern: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if pattern is None or pattern == "":
        return None
    parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
    if not isinstance(parsed, dict):
        raise PatternError("an event pattern must be a JSON object")
    return parsed


def matches(pattern: dict[str, Any] | str | None, event: Any) -> bool:
    """True when `event` matches `pattern`; a missing pattern matches nothing."""
    parsed = parse(pattern)
    if parsed is None:
        return False
    return _match_object(parsed, [event])


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(_flatten(item))
        return flat
    return [value]


def _match_object(pattern: dict[str, Any], nodes: list[Any]) -> bool:
    for key, spec in pattern.items():
        if key == "$or":
            if not isinstance(spec, list) or not any(_match_object(option, nodes) for option in spec):
                return False
            continue
        children: list[Any] = []
        for node in nodes:
            if isinstance(node, dict) and key in node:
                children.extend(_flatten(node[key]))
        if isinstance(spec, dict):
            if not _match_object(spec, [child for child in children if isinstance(child, dict)]):
                return False
        elif isinstance(spec, list):
            leaves = [child for child in children if not isinstance(child, dict)]
            if not _match_leaves(spec, leaves):
                return False
        else:
            raise PatternError(f"{key!r} must be an object or an array")
    return True


def _match_leaves(matchers: list[Any], leaves: list[Any]) -> bool:
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            if bool(matcher["exists"]) == bool(leaves):
                return True
            continue
        if any(_match_value(matcher, leaf) for leaf in leaves):
            return True
    return False


def _same_literal(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    if isinstance(expected, str) and isinstance(actual, str):
        return expected == actual
    return False


def _match_value(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _same_literal(matcher, value)
    if len(matcher) != 1:
        raise PatternError(f"a content filter has exactly one key: {matcher!r}")
    ((name, argument),) = matcher.items()
    handler = _CONTENT_FILTERS.get(name)
    if handler is None:
        raise PatternError(f"unsupported content filter {name!r}")
    return handler(argument, value)


def _string_test(argument: Any, value: Any, test: Callable[[str, str], bool]) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict) and "equals-ignore-case" in argument:
        return test(value.lower(), str(argument["equals-ignore-case"]).lower())
    if isinstance(argument, list):
        return any(isinstance(a, str) and test(value, a) for a in argument)
    return isinstance(argument, str) and test(value, argument)


def _prefix(argument: Any, value: Any) -> bool:
    return _string_test(argument, value, str.startswith)


def _suffix(argument: Any, value: Any) -> bool:
    return _string_test(argument, value, str.endswith)


def _equals_ignore_case(argument: Any, value: Any) -> bool:
    options = argument if isinstance(argument, list) else [argument]
    return isinstance(value, str) and any(isinstance(o, str) and o.lower() == value.lower() for o in options)


def _wildcard(argument: Any, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    options = argument if isinstance(argument, list) else [argument]
    return any(_wildcard_regex(option).fullmatch(value) is not None for option in options)


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*\\":
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def _numeric(argument: Any, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not isinstance(argument, list) or len(argument) % 2:
        raise PatternError(f"numeric needs operator/value pairs: {argument!r}")
    for symbol, bound in zip(argument[::2], argument[1::2], strict=True):
        test = _NUMERIC_OPERATORS.get(symbol)
        if test is None:
            raise PatternError(f"unknown numeric operator {symbol!r}")
        if not test(float(value), float(bound)):
            return False
    return True


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        return not _match_value(argument, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_same_literal(item, value) for item in excluded)


def _cidr(argument: Any, value: Any) -> bool:
    try:
        return ipaddress.ip_address(str(value)) in ipaddress.ip_network(str(argument), strict=False)
    except ValueError:
        return False


_CONTENT_FILTERS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "wildcard": _wildcard,
    "numeric": _numeric,
    "anything-but": _anything_but,
    "cidr": _cidr,
}
