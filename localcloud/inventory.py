"""Every template resource, its local identity (name, ARN, URL) and how to find it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud import naming
from localcloud.intrinsics import ACCOUNT_ID, IntrinsicError, Resolver
from localcloud.template import CloudAssembly, StackTemplate


@dataclass
class Resource:
    stack: str
    logical_id: str
    type: str
    definition: dict[str, Any]
    cdk_path: str | None
    name: str = ""
    id: str = ""
    ref: Any = None
    arn: str | None = None
    url: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"  # created | wired | skipped | failed | not_emulated
    error: str | None = None
    identified: bool = False

    @property
    def raw_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = self.definition.get("Properties") or {}
        return props

    @property
    def physical_name(self) -> str:
        return self.name

    @property
    def logical_path(self) -> str:
        return f"{self.stack}/{self.logical_id}"

    def summary(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "logical_id": self.logical_id,
            "type": self.type,
            "cdk_path": self.cdk_path,
            "name": self.name,
            "arn": self.arn,
            "url": self.url,
        }


@dataclass(frozen=True)
class Urls:
    moto: str
    front_door: str


class StackResources:
    """The `ResourceLookup` an intrinsic resolver uses for one stack."""

    def __init__(
        self, stack: StackTemplate, inventory: Inventory, urls: Urls, parameters: Mapping[str, Any] | None = None
    ) -> None:
        self.stack = stack
        self.inventory = inventory
        self.urls = urls
        self.resolver = Resolver(stack.name, stack.template, self, inventory.export_value, parameters)
        self._computing: set[str] = set()

    def has(self, logical_id: str) -> bool:
        return logical_id in self.stack.resources

    def resource(self, logical_id: str) -> Resource:
        resource = self.inventory.get(self.stack.name, logical_id)
        if not resource.identified:
            if logical_id in self._computing:
                raise IntrinsicError(f"circular reference through {self.stack.name}/{logical_id}")
            self._computing.add(logical_id)
            try:
                _assign_identity(resource, self)
            finally:
                self._computing.discard(logical_id)
        return resource

    def ref(self, logical_id: str) -> Any:
        return self.resource(logical_id).ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        resource = self.resource(logical_id)
        if attribute in resource.attributes:
            return resource.attributes[attribute]
        if attribute == "Arn":
            return resource.arn or naming.generic_arn(resource.type, resource.name)
        # Custom resources and unemulated types: a stable placeholder, never a crash.
        return f"local-{resource.name}-{attribute}"


class Inventory:
    def __init__(self, assembly: CloudAssembly) -> None:
        self.assembly = assembly
        self.resources: list[Resource] = []
        self._index: dict[tuple[str, str], Resource] = {}
        self.exports: dict[str, Any] = {}
        self.contexts: dict[str, StackResources] = {}
        for stack in assembly.stacks:
            for logical_id, definition in stack.resources.items():
                resource = Resource(
                    stack=stack.name,
                    logical_id=logical_id,
                    type=str(definition.get("Type", "")),
                    definition=definition,
                    cdk_path=stack.cdk_path(logical_id),
                )
                self.resources.append(resource)
                self._index[(stack.name, logical_id)] = resource

    def get(self, stack: str, logical_id: str) -> Resource:
        return self._index[(stack, logical_id)]

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types and r.status not in ("skipped", "failed")]

    def export_value(self, name: str) -> Any:
        if name not in self.exports:
            raise IntrinsicError(f"Fn::ImportValue: no stack exports {name!r}")
        return self.exports[name]

    def find(self, key: str) -> Resource:
        """By construct path (or a prefix of one), `Stack/LogicalId`, logical id, name or ARN."""
        candidates = self._candidates(key)
        if not candidates:
            raise KeyError(f"no resource matches {key!r}")
        return min(candidates, key=_preference)

    def _candidates(self, key: str) -> list[Resource]:
        wanted = key.strip("/")
        by_path = [
            r for r in self.resources if r.cdk_path and (r.cdk_path == wanted or r.cdk_path.startswith(wanted + "/"))
        ]
        if by_path:
            return by_path
        exact = [
            r
            for r in self.resources
            if wanted in (r.logical_path, r.logical_id) or (r.name and wanted in (r.name, r.arn))
        ]
        return exact

    def find_function(self, name_or_arn: str) -> Resource | None:
        """A Lambda function by name, ARN (qualifier ignored), logical id or construct path."""
        value = str(name_or_arn)
        if value.startswith("arn:"):
            parts = value.split(":")
            value = parts[6] if len(parts) > 6 else value
        else:
            value = value.split(":")[0]
        for resource in self.resources:
            if resource.type == "AWS::Lambda::Function" and value in (resource.name, resource.logical_id):
                return resource
        try:
            found = self.find(str(name_or_arn))
        except KeyError:
            return None
        return found if found.type == "AWS::Lambda::Function" else None

    def by_arn(self, arn: str) -> Resource | None:
        for resource in self.resources:
            if resource.arn == arn:
                return resource
        return None

    def iter_stacks(self) -> Iterable[StackTemplate]:
        return self.assembly.stacks


def _preference(resource: Resource) -> tuple[int, int, int]:
    """Among resources under one construct: the construct's own resource first."""
    path = resource.cdk_path or ""
    own = 0 if path.endswith("/Resource") or path.count("/") <= 1 else 1
    emulated = 0 if resource.type in naming.TYPE_RULES else 1
    return (own, path.count("/"), emulated)


def _assign_identity(resource: Resource, ctx: StackResources) -> None:
    rule = naming.TYPE_RULES.get(resource.type, naming.TypeRule(None))
    props = resource.raw_properties
    resource.id = naming.stable_id(resource.stack, resource.logical_id)
    explicit = props.get(rule.name_property) if rule.name_property else None
    if explicit is not None:
        resource.name = str(ctx.resolver.resolve(explicit))
    else:
        resource.name = naming.generated_name(resource.stack, resource.logical_id, rule, _fifo_suffix(resource))
    values = {
        "name": resource.name,
        "id": resource.id,
        "id_upper": resource.id.upper(),
        "id_lower": resource.id.lower(),
    }
    resource.arn = naming.format_value(rule.arn, **values) if rule.arn else None
    _SPECIAL_IDENTITIES.get(resource.type, _no_special)(resource, ctx)
    values["arn"] = resource.arn or ""
    values["url"] = resource.url or ""
    attributes = {key: naming.format_value(template, **values) for key, template in rule.attributes.items()}
    if resource.arn:
        attributes.setdefault("Arn", resource.arn)
    resource.attributes = {**attributes, **resource.attributes}
    if resource.ref is None:
        resource.ref = {"name": resource.name, "arn": resource.arn, "url": resource.url, "id": resource.id}[rule.ref]
    resource.identified = True


def _fifo_suffix(resource: Resource) -> str:
    props = resource.raw_properties
    flag = props.get("FifoQueue") if resource.type == "AWS::SQS::Queue" else props.get("FifoTopic")
    if resource.type in ("AWS::SQS::Queue", "AWS::SNS::Topic") and str(flag).lower() == "true":
        return ".fifo"
    return ""


def _no_special(resource: Resource, ctx: StackResources) -> None:
    return None


def _queue(resource: Resource, ctx: StackResources) -> None:
    resource.url = f"{ctx.urls.moto}/{ACCOUNT_ID}/{resource.name}"


def _rule(resource: Resource, ctx: StackResources) -> None:
    bus = ctx.resolver.resolve(resource.raw_properties.get("EventBusName") or "default")
    bus_name = str(bus).split("/")[-1] if str(bus).startswith("arn:") else str(bus)
    prefix = "" if bus_name == "default" else f"{bus_name}/"
    resource.arn = naming.format_value("arn:{partition}:events:{region}:{account}:rule/") + prefix + resource.name
    resource.attributes["EventBusName"] = bus_name
    resource.ref = resource.name if bus_name == "default" else f"{bus_name}|{resource.name}"


def _schedule(resource: Resource, ctx: StackResources) -> None:
    group = str(ctx.resolver.resolve(resource.raw_properties.get("GroupName") or "default"))
    resource.attributes["GroupName"] = group
    resource.arn = (
        naming.format_value("arn:{partition}:scheduler:{region}:{account}:schedule/") + f"{group}/{resource.name}"
    )


def _table(resource: Resource, ctx: StackResources) -> None:
    # Replaced by moto's real stream ARN once the table exists.
    resource.attributes["StreamArn"] = f"{resource.arn}/stream/1970-01-01T00:00:00.000"
    resource.attributes["TableId"] = resource.id


def _http_api(resource: Resource, ctx: StackResources) -> None:
    resource.url = ctx.urls.front_door
    resource.attributes["ApiEndpoint"] = ctx.urls.front_door


def _function_url(resource: Resource, ctx: StackResources) -> None:
    target = ctx.resolver.resolve(resource.raw_properties.get("TargetFunctionArn"))
    function = ctx.inventory.find_function(str(target))
    function_id = function.logical_id if function else resource.logical_id
    resource.url = f"{ctx.urls.front_door}/_lambda/{function_id}/"
    resource.attributes["FunctionUrl"] = resource.url
    resource.attributes["FunctionArn"] = function.arn if function else str(target)
    resource.ref = resource.url


def _qualified_function(resource: Resource, ctx: StackResources) -> None:
    target = ctx.resolver.resolve(resource.raw_properties.get("FunctionName"))
    function = ctx.inventory.find_function(str(target))
    base = function.arn if function and function.arn else str(target)
    qualifier = str(ctx.resolver.resolve(resource.raw_properties.get("Name", "1")))
    if resource.type == "AWS::Lambda::Version":
        qualifier = "1"
        resource.attributes["Version"] = qualifier
    resource.arn = f"{base}:{qualifier}"
    resource.attributes["FunctionArn"] = base
    resource.attributes["AliasArn"] = resource.arn
    resource.ref = resource.arn


def _distribution(resource: Resource, ctx: StackResources) -> None:
    resource.id = "E" + resource.id.upper()


_SPECIAL_IDENTITIES = {
    "AWS::SQS::Queue": _queue,
    "AWS::Events::Rule": _rule,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::DynamoDB::Table": _table,
    "AWS::DynamoDB::GlobalTable": _table,
    "AWS::ApiGatewayV2::Api": _http_api,
    "AWS::Lambda::Url": _function_url,
    "AWS::Lambda::Alias": _qualified_function,
    "AWS::Lambda::Version": _qualified_function,
    "AWS::CloudFront::Distribution": _distribution,
}
