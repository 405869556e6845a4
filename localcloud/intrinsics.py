"""CloudFormation intrinsic functions, resolved against the local cloud's resources.

Only what synthesized CDK templates contain is covered; each function follows
the CloudFormation documentation (e.g. `Fn::Sub`'s `${!Literal}` escape and
`AWS::NoValue` dropping the property).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
AVAILABILITY_ZONES = [f"{REGION}a", f"{REGION}b", f"{REGION}c"]


class IntrinsicError(Exception):
    """A template expression cannot be resolved."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


class ResourceLookup(Protocol):
    def has(self, logical_id: str) -> bool: ...

    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    def __init__(
        self,
        stack_name: str,
        template: Mapping[str, Any],
        resources: ResourceLookup,
        exports: Callable[[str], Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.stack_name = stack_name
        self.template = template
        self.resources = resources
        self._exports = exports
        self._parameters = self._parameter_values(parameters or {})
        self._conditions: dict[str, bool] = {}
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::ImportValue": self._import_value,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::And": lambda args: all(self._truth(a) for a in args),
            "Fn::Or": lambda args: any(self._truth(a) for a in args),
            "Fn::Not": lambda args: not self._truth(args[0]),
            "Condition": lambda name: self.condition(name),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(str(self.resolve(arg)).encode()).decode(),
            "Fn::GetAZs": lambda _region: list(AVAILABILITY_ZONES),
            "Fn::ToJsonString": lambda arg: json.dumps(self.resolve(arg), separators=(",", ":")),
            "Fn::Length": lambda arg: len(self.resolve(arg)),
            "Fn::Cidr": self._cidr,
        }

    # -- public -------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                function = self._functions.get(key)
                if function is not None:
                    return function(argument)
            resolved_dict = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved_dict.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.get("Conditions") or {}
            if name not in conditions:
                raise IntrinsicError(f"unknown condition {name!r}")
            self._conditions[name] = self._truth(conditions[name])
        return self._conditions[name]

    def pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": PARTITION,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{self.stack_name}/local",
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise IntrinsicError(f"unknown pseudo parameter {name!r}")
        return values[name]

    # -- functions ----------------------------------------------------------

    def _ref(self, name: Any) -> Any:
        name = self.resolve(name)
        if not isinstance(name, str):
            raise IntrinsicError(f"Ref needs a name, got {name!r}")
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self._parameters:
            return self._parameters[name]
        if self.resources.has(name):
            return self.resources.ref(name)
        raise IntrinsicError(f"Ref to unknown {name!r} in {self.stack_name}")

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = argument[0], self.resolve(argument[1])
        if not self.resources.has(logical_id):
            raise IntrinsicError(f"Fn::GetAtt on unknown resource {logical_id!r} in {self.stack_name}")
        return self.resources.get_att(logical_id, str(attribute))

    def _join(self, argument: Any) -> str:
        delimiter, values = argument
        items = self.resolve(values)
        return str(delimiter).join(_text(item) for item in items)

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, raw_variables = argument
            variables = {k: self.resolve(v) for k, v in (raw_variables or {}).items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return _text(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, _, attribute = expression.partition(".")
                return _text(self._get_att([logical_id, attribute]))
            return _text(self._ref(expression))

        return _SUB_VARIABLE.sub(replace, text)

    def _select(self, argument: Any) -> Any:
        index, values = argument
        items = self.resolve(values)
        position = int(self.resolve(index))
        if not isinstance(items, list) or not 0 <= position < len(items):
            raise IntrinsicError(f"Fn::Select index {position} out of range")
        return items[position]

    def _split(self, argument: Any) -> list[str]:
        delimiter, source = argument
        return _text(self.resolve(source)).split(delimiter)

    def _import_value(self, argument: Any) -> Any:
        name = self.resolve(argument)
        if self._exports is None:
            raise IntrinsicError(f"Fn::ImportValue {name!r}: no exports available")
        return self._exports(str(name))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(a) for a in argument)
        return bool(_text(left) == _text(right)) if not isinstance(left, list | dict) else bool(left == right)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, first, second = (self.resolve(a) for a in argument[:3])
        mappings = self.template.get("Mappings") or {}
        try:
            return mappings[map_name][first][second]
        except KeyError:
            if len(argument) > 3 and isinstance(argument[3], dict) and "DefaultValue" in argument[3]:
                return self.resolve(argument[3]["DefaultValue"])
            raise IntrinsicError(f"Fn::FindInMap {map_name}/{first}/{second} not found") from None

    def _cidr(self, argument: Any) -> list[str]:
        _block, count, _bits = (self.resolve(a) for a in argument)
        return [f"10.0.{i}.0/24" for i in range(int(count))]

    # -- helpers ------------------------------------------------------------

    def _truth(self, expression: Any) -> bool:
        value = self.resolve(expression)
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)

    def _parameter_values(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            if name in overrides:
                raw = overrides[name]
            elif "Default" in spec:
                raw = spec["Default"]
            else:
                continue
            kind = str(spec.get("Type", "String"))
            if isinstance(raw, str) and (kind.startswith("List<") or kind == "CommaDelimitedList"):
                values[name] = [part.strip() for part in raw.split(",")]
            else:
                values[name] = raw
        return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


def references(value: Any) -> set[str]:
    """Logical ids (or parameter names) an expression depends on, for ordering."""
    found: set[str] = set()
    _collect_references(value, found)
    return {name for name in found if not name.startswith("AWS::")}


def _collect_references(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_references(item, found)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
            return
        if key == "Fn::GetAtt":
            found.add(argument.partition(".")[0] if isinstance(argument, str) else str(argument[0]))
            return
        if key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            local = set() if isinstance(argument, str) else set((argument[1] or {}).keys())
            for expression in _SUB_VARIABLE.findall(text):
                if not expression.startswith("!") and expression not in local:
                    found.add(expression.partition(".")[0])
            if not isinstance(argument, str):
                _collect_references(argument[1], found)
            return
    for item in value.values():
        _collect_references(item, found)
