"""What a rule target receives: `Input`, `InputPath` or `InputTransformer`.

moto 5.2.5 ignores `Input`/`InputPath` and pastes transformer values without
quoting. The rules here are EventBridge's: a placeholder outside a JSON string
gets the value's JSON (strings quoted), inside a string it gets the bare text;
a template that is not a JSON object is text, and a template written as one
quoted string (CDK's `RuleTargetInput.fromText`) yields that string.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class TransformError(ValueError):
    """The target input cannot be produced (bad path or template)."""


def json_path(document: Any, path: str) -> Any:
    """The small JSONPath subset EventBridge accepts: `$.a.b`, `$.a[0]`, `$.a[*].b`."""
    path = path.strip()
    if not path.startswith("$"):
        raise TransformError(f"a JSON path starts with '$': {path!r}")
    current: list[Any] = [document]
    wildcard = False
    position = 1
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None:
            raise TransformError(f"unsupported JSON path {path!r}")
        position = match.end()
        key = match.group(1) or match.group(3) or match.group(4)
        index = match.group(2)
        current, is_wild = _step(current, key, index)
        wildcard = wildcard or is_wild
    if wildcard:
        return current
    return current[0] if current else MISSING


def _step(nodes: list[Any], key: str | None, index: str | None) -> tuple[list[Any], bool]:
    following: list[Any] = []
    if index == "*":
        for node in nodes:
            if isinstance(node, list):
                following.extend(node)
            elif isinstance(node, dict):
                following.extend(node.values())
        return following, True
    for node in nodes:
        if index is not None:
            if isinstance(node, list) and int(index) < len(node):
                following.append(node[int(index)])
        elif isinstance(node, dict) and key in node:
            following.append(node[key])
    return following, False


def target_input(target: dict[str, Any], event: dict[str, Any], rule_arn: str = "", rule_name: str = "") -> Any:
    """The payload a target receives for `event` (a Python value, not JSON text)."""
    if target.get("Input") is not None:
        raw = target["Input"]
        try:
            return json.loads(raw)
        except (TypeError, ValueError):
            return raw
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return None if value is MISSING else value
    transformer = target.get("InputTransformer")
    if transformer:
        return render_transformer(transformer, event, rule_arn, rule_name)
    return event


def render_transformer(
    transformer: dict[str, Any], event: dict[str, Any], rule_arn: str = "", rule_name: str = ""
) -> Any:
    template = str(transformer.get("InputTemplate", ""))
    values = {name: json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.setdefault("aws.events.rule-arn", rule_arn)
    values.setdefault("aws.events.rule-name", rule_name)
    values.setdefault("aws.events.event.ingestion-time", event.get("time", MISSING))
    values.setdefault("aws.events.event", {k: v for k, v in event.items() if k != "detail"})
    values.setdefault("aws.events.event.json", event)
    stripped = template.strip()
    is_json = stripped.startswith(("{", "["))
    rendered = _substitute(template, values, is_json)
    if is_json:
        try:
            return json.loads(rendered)
        except ValueError as exc:
            raise TransformError(f"the transformed input is not valid JSON: {rendered}") from exc
    if len(stripped) >= 2 and stripped.startswith('"') and stripped.endswith('"'):
        try:
            return json.loads(rendered.strip())
        except ValueError:
            return rendered.strip()[1:-1]
    return rendered


def _substitute(template: str, values: dict[str, Any], is_json: bool) -> str:
    out: list[str] = []
    in_string = False
    escaped = False
    index = 0
    while index < len(template):
        char = template[index]
        if char == "<" and (match := _PLACEHOLDER.match(template, index)) and match.group(1) in values:
            out.append(_render(values[match.group(1)], in_string, is_json))
            index = match.end()
            continue
        if in_string and char == "\\" and not escaped:
            escaped = True
        else:
            if char == '"' and not escaped:
                in_string = not in_string
            escaped = False
        out.append(char)
        index += 1
    return "".join(out)


def _render(value: Any, in_string: bool, is_json: bool) -> str:
    if in_string:
        if value is MISSING:
            return ""
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        # Escaped so the surrounding JSON string stays valid.
        return json.dumps(text)[1:-1]
    if value is MISSING:
        return "null" if is_json else ""
    if isinstance(value, str) and not is_json:
        return value
    return json.dumps(value, separators=(",", ":"))
