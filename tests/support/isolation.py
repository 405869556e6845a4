"""The tenant-isolation harness: cases from the OpenAPI document, checks as pure functions.

With two tenants, A (the owner) and B (the intruder), every route of the merged OpenAPI
document becomes one or more cases:

* **object** — a route with path parameters (`GET /api/v1/audit-events/{event_id}`): B sends
  the request with A's ids and must get a 404 `application/problem+json` that is
  indistinguishable from the one for a random id of the same shape; after a write, A still
  reads the object unchanged.
* **listing** — a `GET` whose answer carries `items[]`: nothing B lists is A's.
* **singleton** — a route without ids (`GET /api/v1/workspace`): B's answer holds no trace
  of A (tenant id, user id, object ids); a write is made by a fresh tenant (it may spend its
  own session), and afterwards nothing A reads through routes without ids has changed.

A's ids are found by listing the route's collection (the path with its last `/{param}`
removed) as A, unless a system registered a *seeder* for the path. Write bodies are minimal
valid instances of the operation's request schema, unless a *body factory* is registered.
Public or deliberately unchecked routes need an *exemption* with a reason. Registrations live
in `tests/integration/isolation/hooks/<system>.py` (see tests/integration/isolation/README.md).

Nothing in this module opens a socket: the integration suite hands it the signed-in
tenants' HTTP clients, the harness self-test (`tests/unit/isolation`) hands it a fake API.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
import string
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_DOCUMENT = ROOT / "build" / "openapi" / "openapi.json"
CDK_OUT = ROOT / "cdk.out"
HOOKS = "tests/integration/isolation/hooks/<system>.py"

PROBLEM_JSON = "application/problem+json"
# Problem members that may differ between two 404s without telling anything: `instance` echoes
# the request's own path (and so the id B sent).
VOLATILE_PROBLEM_MEMBERS = frozenset({"instance"})
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Enough to catch a check that only looks at the first object, few enough to stay fast.
MAX_OBJECTS_PER_ROUTE = 3
EXCERPT = 300
# The platform's pagination: `?cursor=&limit=` in, `next_cursor` out.
CURSOR_PARAM = "cursor"
LIMIT_PARAM = "limit"
NEXT_CURSOR = "next_cursor"

_PARAM = re.compile(r"\{([^{}/]+)\}")


# --- what the harness talks to ------------------------------------------------------------------


class ReplyLike(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...


class Client(Protocol):
    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any: ...  # a ReplyLike; `Any` so that `tests.support.cloud.Api` fits without a cast


class Tenant(Protocol):
    @property
    def tenant_id(self) -> str: ...

    @property
    def user_id(self) -> str: ...

    @property
    def api(self) -> Client: ...


Seeder = Callable[[Any, Tenant], list[dict[str, str]]]
"""`(cloud, tenant) -> [path-parameter values of objects the tenant owns]`."""

BodyFactory = Callable[[Any, Tenant, Mapping[str, str]], Any]
"""`(cloud, tenant, path-parameter values) -> a valid request body` for one write route."""


class HarnessError(Exception):
    """The harness cannot run a case as generated; the message tells the route's author what to add."""


class UnsupportedSchema(HarnessError):
    pass


# --- registrations ------------------------------------------------------------------------------


@dataclass
class Registry:
    """Per-route knowledge a system contributes: seeders, body factories, exemptions."""

    seeders: dict[str, Seeder] = field(default_factory=dict)
    bodies: dict[tuple[str, str], BodyFactory] = field(default_factory=dict)
    exemptions: dict[tuple[str, str], str] = field(default_factory=dict)
    volatile_fields: set[str] = field(default_factory=set)
    self_caused: list[Callable[[Any], bool]] = field(default_factory=list)

    def seeder(self, path: str) -> Callable[[Seeder], Seeder]:
        """Register how a tenant comes to own objects at `path` (an OpenAPI path template)."""

        def register(function: Seeder) -> Seeder:
            if path in self.seeders:
                raise ValueError(f"a seeder for {path} is already registered")
            self.seeders[path] = function
            return function

        return register

    def body(self, method: str, path: str) -> Callable[[BodyFactory], BodyFactory]:
        """Register the request body B sends to `method path` when the generated one won't do."""

        def register(function: BodyFactory) -> BodyFactory:
            key = (method.upper(), path)
            if key in self.bodies:
                raise ValueError(f"a body factory for {method.upper()} {path} is already registered")
            self.bodies[key] = function
            return function

        return register

    def exempt(self, method: str, path: str, *, reason: str) -> None:
        """Leave `method path` out of the suite (`method="*"` for every method); say why."""
        if not reason.strip():
            raise ValueError(f"an exemption for {method} {path} needs a reason")
        self.exemptions[(method.upper(), path)] = reason.strip()

    def volatile(self, *names: str) -> None:
        """Fields that change merely because A reads (a session's `last_seen_at`): ignored, at any
        depth, when A's view before another tenant's write is compared with the view after."""
        self.volatile_fields.update(names)

    def ignore_self_caused(self, predicate: Callable[[Any], bool]) -> None:
        """Listing items that A's own activity produces on a clock, whatever B does (the hourly
        report of A's API calls, which counts the very reads of this check): left out when A's view
        before another tenant's write is compared with the view after."""
        self.self_caused.append(predicate)

    def exemption_for(self, route: Route) -> str | None:
        return self.exemptions.get((route.method, route.path)) or self.exemptions.get(("*", route.path))


REGISTRY = Registry()
seeder = REGISTRY.seeder
body_factory = REGISTRY.body
exempt = REGISTRY.exempt
volatile = REGISTRY.volatile
ignore_self_caused = REGISTRY.ignore_self_caused


# --- the document -------------------------------------------------------------------------------


def load_document(path: Path = OPENAPI_DOCUMENT) -> dict[str, Any]:
    """The merged OpenAPI document `make synth` wrote; HarnessError when it is missing or empty."""
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if not path.exists():
        raise HarnessError(f"{shown} is missing: run `make synth` (scripts/openapi.py writes it)")
    document: dict[str, Any] = json.loads(path.read_text())
    if not document.get("paths"):
        raise HarnessError(
            f"{shown} declares no routes (the CDK app's placeholder?): run `make synth`, "
            "which runs scripts/openapi.py before the CDK app"
        )
    return document


def deployed_routes(cdk_out: Path = CDK_OUT) -> dict[str, str]:
    """`"GET /api/v1/me" -> AuthorizationType` for every HTTP API route in the synthesized templates."""
    routes: dict[str, str] = {}
    for template in sorted(cdk_out.glob("*.template.json")):
        resources = json.loads(template.read_text()).get("Resources", {})
        for resource in resources.values():
            if resource.get("Type") != "AWS::ApiGatewayV2::Route":
                continue
            properties = resource.get("Properties", {})
            if isinstance(properties.get("RouteKey"), str):
                routes[properties["RouteKey"]] = str(properties.get("AuthorizationType", "NONE"))
    return routes


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: Mapping[str, Any] = field(compare=False, repr=False)
    shared_parameters: tuple[Mapping[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def __str__(self) -> str:
        return self.key

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def parameters(self) -> list[Mapping[str, Any]]:
        merged = {(p.get("in"), p.get("name")): p for p in self.shared_parameters}
        merged.update({(p.get("in"), p.get("name")): p for p in self.operation.get("parameters", [])})
        return list(merged.values())

    def parameter(self, name: str, location: str = "path") -> Mapping[str, Any]:
        for parameter in self.parameters:
            if parameter.get("name") == name and parameter.get("in") == location:
                return parameter
        return {}


class ApiDocument:
    """An OpenAPI 3.1 document seen as routes, with `$ref` resolution."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.raw = document
        self.routes: list[Route] = []
        for path, item in sorted(document.get("paths", {}).items()):
            shared = tuple(item.get("parameters", []))
            for method in HTTP_METHODS:
                if method in item:
                    self.routes.append(Route(method.upper(), path, item[method], shared))

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.method == method and r.path == path), None)

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen: set[str] = set()
        while "$ref" in schema:
            ref = str(schema["$ref"])
            if not ref.startswith("#/") or ref in seen:
                raise UnsupportedSchema(f"cannot resolve $ref {ref!r}")
            seen.add(ref)
            target: Any = self.raw
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = target
        return schema

    def success_schema(self, route: Route) -> Mapping[str, Any]:
        for status, response in sorted(route.operation.get("responses", {}).items()):
            if str(status).startswith("2"):
                content = response.get("content", {})
                media: Mapping[str, Any] = content.get("application/json") or next(iter(content.values()), {})
                return self.resolve(media.get("schema", {}))
        return {}

    def is_listing(self, route: Route) -> bool:
        if route.method != "GET":
            return False
        items = self.success_schema(route).get("properties", {}).get("items")
        return isinstance(items, Mapping) and self.resolve(items).get("type") == "array"

    def request_schema(self, route: Route) -> Mapping[str, Any] | None:
        request_body = route.operation.get("requestBody")
        if request_body is None:
            return None
        content = self.resolve(request_body).get("content", {})
        if "application/json" not in content:
            raise UnsupportedSchema(f"{route} takes {sorted(content)}, not application/json")
        return dict(content["application/json"].get("schema", {}))

    def security(self, route: Route) -> list[Mapping[str, Any]]:
        return list(route.operation.get("security", self.raw.get("security", [])))


# --- cases --------------------------------------------------------------------------------------


class Kind(StrEnum):
    OBJECT = "object"
    LISTING = "listing"
    SINGLETON = "singleton"


@dataclass(frozen=True)
class Case:
    kind: Kind
    route: Route
    problem: str | None = None  # why the case cannot run as generated: the test fails with it
    exemption: str | None = None  # why the route is deliberately left out: the test is skipped

    @property
    def id(self) -> str:
        return self.route.key


def plan(document: ApiDocument, registry: Registry, deployed: Mapping[str, str] | None = None) -> list[Case]:
    """Every case the document implies, in document order (object, listing, singleton)."""
    cases: list[Case] = []
    for route in document.routes:
        kinds = []
        if route.path_params:
            kinds.append(Kind.OBJECT)
        if document.is_listing(route):
            kinds.append(Kind.LISTING)
        elif not route.path_params:
            kinds.append(Kind.SINGLETON)
        exemption = registry.exemption_for(route)
        public = public_because(route, document, deployed)
        for kind in kinds:
            if exemption:
                cases.append(Case(kind, route, exemption=exemption))
            elif public:
                cases.append(Case(kind, route, problem=_public_problem(route, public)))
            elif kind is Kind.OBJECT:
                cases.append(Case(kind, route, problem=discovery_gap(route.path, document, registry)))
            else:
                cases.append(Case(kind, route))
    return sorted(cases, key=lambda c: (list(Kind).index(c.kind), c.route.path, c.route.method))


def public_because(route: Route, document: ApiDocument, deployed: Mapping[str, str] | None) -> str | None:
    """Why `route` is reachable without the authorizer, or None when it is not."""
    security = document.security(route)
    if not security or any(not requirement for requirement in security):
        return "the OpenAPI document declares no security requirement for it"
    if deployed is not None and deployed.get(route.key, "CUSTOM") == "NONE":
        return "its API Gateway route has no authorizer (AuthorizationType NONE)"
    return None


def _public_problem(route: Route, why: str) -> str:
    return (
        f"{route} is public ({why}), so tenant isolation cannot be checked through it. If that is "
        f"intended, register an exemption with the reason in {HOOKS}: "
        f'exempt("{route.method}", "{route.path}", reason="...")'
    )


def collection_of(path: str) -> tuple[str, str]:
    """(`/a/{x}/b` for `/a/{x}/b/{y}/c`, `"y"`): the path without its last `/{param}`, and that param."""
    last = _PARAM.findall(path)[-1]
    return path[: path.rindex("/{" + last + "}")], last


def object_path(path: str) -> str:
    """`/sessions/{id}` for `/sessions/{id}/revoke`: the path up to and including its last parameter."""
    collection, last = collection_of(path)
    return f"{collection}/{{{last}}}"


def discovery_gap(path: str, document: ApiDocument, registry: Registry) -> str | None:
    """Why A's ids for `path` cannot be found, or None when a seeder or a listing can find them."""
    if path in registry.seeders or not _PARAM.search(path):
        return None
    collection, last = collection_of(path)
    listing = document.route("GET", collection)
    if listing is None or not document.is_listing(listing):
        found = "is not in the document" if listing is None else "does not answer with items[]"
        return (
            f"{path} takes {{{last}}}, but its collection GET {collection} {found}, and no seeder is "
            f"registered for {path}. Register one in {HOOKS}:\n"
            f'    @seeder("{path}")\n'
            "    def ...(cloud, tenant) -> list[dict[str, str]]:  # create objects as `tenant`, return their ids"
        )
    return discovery_gap(object_path(collection), document, registry) if _PARAM.search(collection) else None


# --- values: paths, ids, bodies -----------------------------------------------------------------


def fill(path: str, params: Mapping[str, str], query: Mapping[str, Any] | None = None) -> str:
    filled = _PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=""), path)
    return f"{filled}?{urlencode(query)}" if query else filled


_SEPARATORS = set("-_.:")
_HEX_ALPHABETS = ("0123456789abcdef", "0123456789ABCDEF")
_PREFIX = re.compile(r"^[A-Za-z]{1,5}[_-]")


def lookalike(
    value: str,
    *,
    pattern: str | None = None,
    avoid: Collection[str] = (),
    rng: random.Random | None = None,
) -> str:
    """A random id shaped like `value`: same length, same character classes, same short prefix
    (`ws_`, `usr-`), and valid for the parameter's `pattern` — so it is refused for not existing,
    not for looking wrong."""
    rng = rng or random.Random()
    prefix_match = _PREFIX.match(value)
    prefix = prefix_match.group(0) if prefix_match and len(value) > len(prefix_match.group(0)) else ""
    rest = value[len(prefix) :]
    # A hex id (a uuid, with or without dashes) stays hex; anything else keeps each character's class.
    hex_alphabet = next((a for a in _HEX_ALPHABETS if rest and set(rest) - _SEPARATORS <= set(a)), None)

    def swap(char: str) -> str:
        if hex_alphabet and char in hex_alphabet:
            return rng.choice(hex_alphabet)
        for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
            if char in alphabet:
                return rng.choice(alphabet)
        return char

    for _ in range(100):
        candidate = prefix + "".join(swap(c) for c in rest)
        fits = pattern is None or re.search(pattern, candidate) is not None
        if candidate != value and candidate not in avoid and fits:
            return candidate
    raise HarnessError(f"no random id shaped like {value!r} fits {pattern!r} and differs from the known ids")


_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "duration": "P1D",
    "email": "isolation-probe@example.com",
    "idn-email": "isolation-probe@example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/isolation-probe",
    "url": "https://example.com/isolation-probe",
    "iri": "https://example.com/isolation-probe",
    "uri-reference": "/isolation-probe",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "binary": "isolation-probe",
    "password": "isolation-probe",
}
_PROBE = "isolation-probe"


def example(schema: Mapping[str, Any], document: ApiDocument, *, where: str = "body", depth: int = 0) -> Any:
    """A small, deterministic instance of `schema` (the JSON Schema subset pydantic emits).

    Optional properties are filled too, so that a write has something to change. Raises
    UnsupportedSchema (naming the place in the schema) for anything it cannot satisfy.
    """
    if depth > 32:
        raise UnsupportedSchema(f"{where}: the schema nests too deeply (recursive model?)")
    schema = document.resolve(schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        choices = [v for v in schema["enum"] if v is not None] or list(schema["enum"])
        return choices[0]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return _first_branch(schema[combinator], document, where, depth)
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = document.resolve(part)
            merged.setdefault("properties", {}).update(part.get("properties", {}))
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            merged.update({k: v for k, v in part.items() if k not in {"properties", "required"}})
        return example(merged, document, where=where, depth=depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((t for t in kind if t != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else None
    generators: dict[str | None, Callable[[], Any]] = {
        "string": lambda: _string(schema, where),
        "integer": lambda: _number(schema, where, integer=True),
        "number": lambda: _number(schema, where, integer=False),
        "boolean": lambda: True,
        "null": lambda: None,
        "array": lambda: _array(schema, document, where, depth),
        "object": lambda: _object(schema, document, where, depth),
        None: lambda: _PROBE,  # `{}` accepts anything
    }
    if kind not in generators:
        raise UnsupportedSchema(f"{where}: type {kind!r}")
    return generators[kind]()


def _first_branch(branches: list[Mapping[str, Any]], document: ApiDocument, where: str, depth: int) -> Any:
    # Prefer a real value to null: a write that sets fields is the one that would leak.
    ordered = sorted(branches, key=lambda b: document.resolve(b).get("type") == "null")
    errors = []
    for branch in ordered:
        try:
            return example(branch, document, where=where, depth=depth + 1)
        except UnsupportedSchema as error:
            errors.append(str(error))
    raise UnsupportedSchema(f"{where}: no branch could be generated ({'; '.join(errors)})")


def _string(schema: Mapping[str, Any], where: str) -> str:
    low = int(schema.get("minLength", 0))
    high = int(schema["maxLength"]) if "maxLength" in schema else None
    if high is not None and low > high:
        raise UnsupportedSchema(f"{where}: no string is {low}..{high} characters long")
    candidate = _FORMATS.get(str(schema.get("format")), _PROBE)
    if len(candidate) < low:
        candidate = (candidate * (low // len(candidate) + 1))[:low]
    if high is not None and len(candidate) > high:
        candidate = candidate[:high]
    pattern = schema.get("pattern")
    if pattern is None or re.search(pattern, candidate):
        return candidate
    return _matching(str(pattern), low, high if high is not None else max(low, 64), where)


@functools.cache
def _matching(pattern: str, low: int, high: int, where: str) -> str:
    shortest = _shortest_match(pattern)
    if shortest is not None and low <= len(shortest) <= high and re.search(pattern, shortest):
        return shortest
    # Anything the walk below does not understand: Hypothesis writes strings from a regex, and
    # `find` shrinks to the smallest, so the answer is small and stable from run to run.
    from hypothesis import HealthCheck, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisException

    try:
        return find(
            st.from_regex(pattern),
            lambda s: low <= len(s) <= high,
            settings=settings(database=None, max_examples=2000, suppress_health_check=list(HealthCheck)),
        )
    except (HypothesisException, re.error) as error:
        raise UnsupportedSchema(f"{where}: no string of length {low}..{high} matches {pattern!r}") from error


def _shortest_match(pattern: str) -> str | None:
    """The shortest string for the plain regexes pydantic models use (classes, repeats, groups,
    alternatives); None for anything else (lookarounds, back-references, ...)."""
    from re import _parser  # type: ignore[attr-defined]

    try:
        return _ShortestMatch().walk(_parser.parse(pattern))
    except (re.error, TypeError, ValueError):
        return None


class _ShortestMatch:
    """Walks `re._parser`'s tree, taking the first choice and the fewest repeats everywhere."""

    SAMPLES: Mapping[str, str] = {"CATEGORY_DIGIT": "0", "CATEGORY_WORD": "a", "CATEGORY_SPACE": " "}

    def walk(self, tokens: Any) -> str | None:
        out = []
        for op, value in tokens:
            handler = getattr(self, f"_{str(op).lower()}", None)
            part = handler(value) if handler else None
            if part is None:
                return None
            out.append(part)
        return "".join(out)

    def _literal(self, value: int) -> str:
        return chr(value)

    def _any(self, value: Any) -> str:
        return "a"

    def _at(self, value: Any) -> str:
        return ""  # anchors match no characters

    def _subpattern(self, value: Any) -> str | None:
        return self.walk(value[-1])

    def _branch(self, value: Any) -> str | None:
        return next((p for p in (self.walk(b) for b in value[1]) if p is not None), None)

    def _max_repeat(self, value: Any) -> str | None:
        fewest, _, sub = value
        piece = self.walk(sub)
        return None if piece is None else piece * fewest

    _min_repeat = _max_repeat

    def _in(self, items: list[tuple[Any, Any]]) -> str | None:
        if items and str(items[0][0]) == "NEGATE":
            return next((ch for ch in "aA0_-" if not self._member(ch, items[1:])), None)
        for op, value in items:
            kind = str(op)
            if kind == "LITERAL":
                return chr(value)
            if kind == "RANGE":
                return chr(value[0])
            if kind == "CATEGORY" and str(value) in self.SAMPLES:
                return self.SAMPLES[str(value)]
        return None

    @staticmethod
    def _member(ch: str, items: list[tuple[Any, Any]]) -> bool:
        # Categories inside a negated class are not modelled; the caller re-checks with `re`.
        return any(
            (str(op) == "LITERAL" and chr(v) == ch) or (str(op) == "RANGE" and v[0] <= ord(ch) <= v[1])
            for op, v in items
        )


def _number(schema: Mapping[str, Any], where: str, *, integer: bool) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    multiple = schema.get("multipleOf")
    floor = max((b for b in (low, above) if b is not None), default=None)
    ceiling = min((b for b in (high, below) if b is not None), default=None)

    def fits(value: float) -> bool:
        return (
            (low is None or value >= low)
            and (high is None or value <= high)
            and (above is None or value > above)
            and (below is None or value < below)
            and (not multiple or math.isclose(value / multiple, round(value / multiple)))
            and (not integer or value == int(value))
        )

    # Small and positive if allowed (1 is the least surprising count, size or amount), else the
    # nearest value inside the bounds, else a value between them.
    candidates: list[float] = [1, 0]
    for bound, step in ((floor, 1), (ceiling, -1)):
        if bound is not None:
            unit = multiple or 1
            start = math.ceil(bound / unit) * unit if step > 0 else math.floor(bound / unit) * unit
            candidates += [bound, start, start + step * unit]
    if floor is not None and ceiling is not None:
        candidates.append((floor + ceiling) / 2)
    value = next((c for c in candidates if fits(c)), None)
    if value is None:
        raise UnsupportedSchema(f"{where}: no {'integer' if integer else 'number'} fits {dict(schema)}")
    return int(value) if integer else float(value)


def _array(schema: Mapping[str, Any], document: ApiDocument, where: str, depth: int) -> list[Any]:
    count = max(int(schema.get("minItems", 0)), 1)
    if "maxItems" in schema:
        count = min(count, int(schema["maxItems"]))
    if count > 1 and schema.get("uniqueItems"):
        raise UnsupportedSchema(f"{where}: {count} unique items")
    prefix = list(schema.get("prefixItems", []))
    items = [example(s, document, where=f"{where}[{i}]", depth=depth + 1) for i, s in enumerate(prefix)]
    item_schema = schema.get("items", {})
    while len(items) < count and item_schema is not False:
        items.append(example(item_schema, document, where=f"{where}[{len(items)}]", depth=depth + 1))
    return items


def _object(schema: Mapping[str, Any], document: ApiDocument, where: str, depth: int) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    instance = {
        name: example(sub, document, where=f"{where}.{name}", depth=depth + 1) for name, sub in properties.items()
    }
    for name in schema.get("required", []):
        if name not in instance:
            if extra is False:
                raise UnsupportedSchema(f"{where}: {name!r} is required but not allowed")
            sub = extra if isinstance(extra, Mapping) else {}
            instance[name] = example(sub, document, where=f"{where}.{name}", depth=depth + 1)
    return instance


# --- checks: pure functions of replies ----------------------------------------------------------


def header(reply: ReplyLike, name: str) -> str | None:
    return next((v for k, v in reply.headers.items() if k.lower() == name.lower()), None)


def media_type(reply: ReplyLike) -> str:
    return (header(reply, "Content-Type") or "").split(";")[0].strip().lower()


def excerpt(reply: ReplyLike) -> str:
    text = reply.text or ""
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def problem_body(reply: ReplyLike) -> Any:
    """The body as B could compare it, minus members that legitimately differ."""
    try:
        body = json.loads(reply.text) if reply.text else None
    except ValueError:
        return reply.text
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in VOLATILE_PROBLEM_MEMBERS}
    return body


def hidden_like_missing(foreign: ReplyLike, control: ReplyLike) -> list[str]:
    """Findings when B's answer for A's object differs from its answer for an object that doesn't exist."""
    findings = []
    if control.status != 404:
        findings.append(
            f"the control request (B, a random id of the same shape) answered {control.status}, not 404, "
            f"so there is nothing to compare with: {excerpt(control)}"
        )
    if foreign.status != 404:
        findings.append(f"B, with A's id, got {foreign.status} instead of 404: {excerpt(foreign)}")
    if media_type(foreign) != PROBLEM_JSON:
        findings.append(f"B, with A's id, got Content-Type {header(foreign, 'Content-Type')!r}, not {PROBLEM_JSON}")
    seen = (foreign.status, media_type(foreign), problem_body(foreign))
    missing = (control.status, media_type(control), problem_body(control))
    if control.status == 404 and seen != missing:
        findings.append(
            "B can tell that A's object exists: its answer differs from the one for a random id\n"
            f"      A's id:    {seen}\n      random id: {missing}"
        )
    return findings


def traces(reply: ReplyLike, footprint: Iterable[str]) -> list[str]:
    """Findings for every one of A's identifiers that appears anywhere in B's answer."""
    text = reply.text or ""
    return [f"B's answer contains A's {marker!r}: {excerpt(reply)}" for marker in sorted(footprint) if marker in text]


@dataclass(frozen=True)
class Snapshot:
    """What A sees of an object: compared before and after B's write."""

    status: int
    body: Any


def unchanged(before: Snapshot | None, after: Snapshot | None, what: str) -> list[str]:
    if before == after:
        return []
    return [f"another tenant's write changed {what} for A\n      before: {before}\n      after:  {after}"]


def without(value: Any, names: Collection[str]) -> Any:
    """`value` with every member called one of `names` removed, at any depth."""
    if isinstance(value, dict):
        return {k: without(v, names) for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [without(v, names) for v in value]
    return value


# --- the harness: runs one case with two tenants ------------------------------------------------


def _json(reply: ReplyLike) -> Any:
    try:
        return json.loads(reply.text) if reply.text else None
    except ValueError:
        return reply.text


def _is_item_of(path: str, collection: str) -> bool:
    return bool(_PARAM.search(path)) and collection_of(path)[0] == collection


def _id_of(item: Mapping[str, Any], param: str) -> str | None:
    camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), param)
    for name in (param, camel, "id"):
        if isinstance(item.get(name), str | int):
            return str(item[name])
    return None


@dataclass
class Harness:
    """Owner A, intruder B, the document and the registrations; `check(case)` returns findings.

    `stranger` makes a fresh tenant for a write to a route without ids: such a write may spend
    the caller's own credential (sign out, revoke all sessions), and B is needed afterwards.
    `settle` waits until the asynchronous work (bus, queues) has finished.
    """

    document: ApiDocument
    registry: Registry
    owner: Tenant
    intruder: Tenant
    cloud: Any = None
    settle: Callable[[], None] = lambda: None
    stranger: Callable[[], Tenant] | None = None
    _seeded: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict, repr=False)
    _footprint: frozenset[str] | None = field(default=None, repr=False)
    _strangers: list[Tenant] = field(default_factory=list, repr=False)

    def check(self, case: Case) -> list[str]:
        if case.problem:
            return [case.problem]
        runs = {Kind.OBJECT: self.check_object, Kind.LISTING: self.check_listing, Kind.SINGLETON: self.check_singleton}
        try:
            return runs[case.kind](case.route)
        except HarnessError as error:
            return [str(error)]

    # discovery

    def discover(self, path: str, tenant: Tenant) -> list[dict[str, str]]:
        """Path-parameter values of objects `tenant` owns at `path` (a seeder's, or its collection's)."""
        if path in self.registry.seeders:
            key = (tenant.tenant_id, path)
            if key not in self._seeded:
                self._seeded[key] = self.registry.seeders[path](self.cloud, tenant)
            return self._seeded[key][:MAX_OBJECTS_PER_ROUTE]
        gap = discovery_gap(path, self.document, self.registry)
        if gap:
            raise HarnessError(gap)
        collection, last = collection_of(path)
        parents = self.discover(object_path(collection), tenant) if _PARAM.search(collection) else [{}]
        found: list[dict[str, str]] = []
        for parent in parents:
            for item in self._list(collection, parent, tenant):
                value = _id_of(item, last) if isinstance(item, Mapping) else None
                if value is not None:
                    found.append({**parent, last: value})
        if not found:
            raise HarnessError(
                f"{tenant.tenant_id} owns nothing at {path}: GET {collection} lists no items with an id. "
                f"Register a seeder that creates one in {HOOKS}:\n"
                f'    @seeder("{path}")\n'
                "    def ...(cloud, tenant) -> list[dict[str, str]]: ..."
            )
        return found[:MAX_OBJECTS_PER_ROUTE]

    def _list(self, collection: str, params: Mapping[str, str], tenant: Tenant) -> list[Any]:
        listing = self.document.route("GET", collection)
        assert listing is not None
        reply = tenant.api.request("GET", fill(collection, params, self._query(listing)))
        if reply.status != 200:
            raise HarnessError(f"GET {fill(collection, params)} as {tenant.tenant_id} answered {reply.status}")
        body = _json(reply)
        items = body.get("items") if isinstance(body, dict) else None
        return list(items) if isinstance(items, list) else []

    def footprint(self) -> frozenset[str]:
        """A's tenant id, user id and every object id the harness can find: B must never see one."""
        if self._footprint is None:
            self._make_strangers()
            markers = {self.owner.tenant_id, self.owner.user_id}
            for path in sorted({r.path for r in self.document.routes if r.path_params}):
                try:
                    for params in self.discover(path, self.owner):
                        markers.update(params.values())
                except HarnessError:
                    continue  # that route's own object case reports it
            self._footprint = frozenset(markers)
        return self._footprint

    # requests

    def _query(self, route: Route) -> dict[str, Any]:
        return {
            p["name"]: example(p.get("schema", {}), self.document, where=f"query {p['name']}")
            for p in route.parameters
            if p.get("in") == "query" and p.get("required")
        }

    def _body(self, route: Route, tenant: Tenant, params: Mapping[str, str]) -> Any:
        factory = self.registry.bodies.get((route.method, route.path))
        if factory is not None:
            return factory(self.cloud, tenant, params)
        schema = self.document.request_schema(route)
        if schema is None:
            return None
        try:
            return example(schema, self.document)
        except UnsupportedSchema as error:
            raise HarnessError(
                f"cannot write a valid body for {route} ({error}). Register a body factory in {HOOKS}:\n"
                f'    @body_factory("{route.method}", "{route.path}")\n'
                "    def ...(cloud, tenant, params) -> dict: ..."
            ) from error

    def _send(self, tenant: Tenant, route: Route, params: Mapping[str, str], body: Any) -> ReplyLike:
        url = fill(route.path, params, self._query(route))
        reply: ReplyLike = tenant.api.request(route.method, url, json_body=body)
        return reply

    def _view(self, route: Route, params: Mapping[str, str]) -> Snapshot | None:
        """A's own view of the object `route` addresses: its GET, else its item in the listing."""
        path = object_path(route.path)
        if self.document.route("GET", path) is not None:
            return self._snapshot(self.owner.api.request("GET", fill(path, params)))
        collection, last = collection_of(path)
        if self.document.route("GET", collection) is not None:
            items = self._list(collection, params, self.owner)
            item = next((i for i in items if _id_of(i, last) == params[last]), None)
            return Snapshot(404, None) if item is None else Snapshot(200, without(item, self.registry.volatile_fields))
        return None

    def _snapshot(self, reply: ReplyLike) -> Snapshot:
        body = without(_json(reply), self.registry.volatile_fields)
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            body["items"] = [i for i in body["items"] if not any(p(i) for p in self.registry.self_caused)]
        return Snapshot(reply.status, body)

    def _owner_views(self) -> dict[str, Snapshot]:
        """A's answer from every route without ids that reads (its workspace, its listings, itself)."""
        readers = [
            r
            for r in self.document.routes
            if r.method == "GET"
            and not r.path_params
            and not self.registry.exemption_for(r)
            and not public_because(r, self.document, None)
        ]
        return {
            r.path: self._snapshot(self.owner.api.request("GET", fill(r.path, {}, self._query(r)))) for r in readers
        }

    def _make_strangers(self) -> None:
        """One fresh tenant per write without ids, made up front: making a tenant sets off events,
        and the bus then delivers them during waits that happen anyway (seeding, the first write)."""
        if self.stranger is None:
            return
        self._strangers += [
            self.stranger()
            for r in self.document.routes
            if r.is_write
            and not r.path_params
            and not self.registry.exemption_for(r)
            and not public_because(r, self.document, None)
        ]

    def _fresh_stranger(self) -> Tenant:
        if self.stranger is None:
            return self.intruder
        return self._strangers.pop() if self._strangers else self.stranger()

    # the three checks

    def check_object(self, route: Route) -> list[str]:
        """B uses A's ids: a 404 problem, indistinguishable from a missing object; A's object unchanged."""
        owned = self.discover(route.path, self.owner)
        known = {v for params in owned for v in params.values()}
        findings: list[str] = []
        for params in owned:
            body = self._body(route, self.intruder, params)
            strangers = {
                name: lookalike(value, pattern=route.parameter(name).get("schema", {}).get("pattern"), avoid=known)
                for name, value in params.items()
            }
            self.settle()
            before = self._view(route, params) if route.is_write else None
            if route.is_write and (before is None or before.status != 200):
                raise HarnessError(
                    f"A cannot read its own object {fill(object_path(route.path), params)} ({before}); "
                    f"declare a GET on it or on its collection so that B's {route.method} can be verified"
                )
            foreign = self._send(self.intruder, route, params, body)
            control = self._send(self.intruder, route, strangers, body)
            where = f"{route.method} {fill(route.path, params)}"
            findings += [f"{where}: {f}" for f in hidden_like_missing(foreign, control)]
            if route.is_write:
                self.settle()
                findings += [f"{where}: {f}" for f in unchanged(before, self._view(route, params), "the object")]
        return findings

    def check_listing(self, route: Route) -> list[str]:
        """B lists (its own parents, for a nested collection): nothing listed is A's."""
        footprint = self.footprint()
        # A nested collection (`/workspaces/{id}/members`) is listed under each tenant's own parents.
        theirs = self.discover(object_path(route.path), self.owner) if route.path_params else [{}]
        mine = self.discover(object_path(route.path), self.intruder) if route.path_params else [{}]
        # Items are named like the parameter of the object route under the listing, if there is one.
        param = next((collection_of(r.path)[1] for r in self.document.routes if _is_item_of(r.path, route.path)), "id")
        owned = {
            _id_of(item, param)
            for params in theirs
            for item in self._list(route.path, params, self.owner)
            if isinstance(item, Mapping)
        } - {None}
        if not owned:
            raise HarnessError(
                f"A lists nothing at {route}, so B's listing proves nothing. Register a seeder for the object "
                f"route under it in {HOOKS}"
            )
        forbidden = footprint | {str(i) for i in owned}
        findings = []
        for params in mine:
            reply = self._send(self.intruder, route, params, None)
            if reply.status != 200:
                findings.append(f"B could not list {fill(route.path, params)} ({reply.status}): {excerpt(reply)}")
            findings += traces(reply, forbidden)
        return findings + self._cursor_replay(route, theirs[0], mine[0], forbidden)

    def _cursor_replay(
        self, route: Route, theirs: Mapping[str, str], mine: Mapping[str, str], forbidden: frozenset[str]
    ) -> list[str]:
        """B continues A's listing with A's pagination cursor: that must not reach A's partition."""
        query_params = {p.get("name") for p in route.parameters if p.get("in") == "query"}
        if CURSOR_PARAM not in query_params:
            return []
        query = self._query(route)
        if LIMIT_PARAM in query_params:
            query[LIMIT_PARAM] = 1  # so that A's first page stops early and hands out a cursor
        page = _json(self.owner.api.request("GET", fill(route.path, theirs, query)))
        cursor = page.get(NEXT_CURSOR) if isinstance(page, dict) else None
        if not isinstance(cursor, str) or not cursor:
            return []  # A's objects fit on one page: nothing to replay
        reply = self.intruder.api.request("GET", fill(route.path, mine, {**query, CURSOR_PARAM: cursor}))
        findings = [f"with A's cursor, {finding}" for finding in traces(reply, forbidden)]
        if reply.status >= 500:
            findings.append(f"A's cursor in B's hands fails with {reply.status}: {excerpt(reply)}")
        return findings

    def check_singleton(self, route: Route) -> list[str]:
        """Another tenant calls a route without ids: nothing of A in its answer, and after a write,
        nothing A can read (its workspace, its listings, itself) has changed."""
        footprint = self.footprint()
        caller = self._fresh_stranger() if route.is_write else self.intruder
        if route.is_write:
            self.settle()
            before = self._owner_views()
        reply = self._send(caller, route, {}, self._body(route, caller, {}))
        findings = traces(reply, footprint)
        if reply.status >= 500:
            findings.append(f"the request failed with {reply.status}, so its answer proves nothing: {excerpt(reply)}")
        if route.is_write:
            self.settle()
            after = self._owner_views()
            for path, seen in before.items():
                findings += unchanged(seen, after.get(path), f"GET {path}")
        return findings
