"""Every event type Ninefold emits, with its schema and producer.

Schemas live in the core package (`ninefold_core.events.schemas.<producer>`) so
a consumer never imports the producer's code. `docs/events.md` is rendered from
this catalog by `scripts/events_doc.py`; a unit test fails when it drifts.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from ninefold_core.errors import InvalidInput
from ninefold_core.events.envelope import Envelope, EventData, EventMetadata

SYSTEMS = (
    "identity",
    "billing",
    "notifications",
    "workflows",
    "observability",
    "marketing",
    "media",
    "testing",
    "safety",
)
# The producer of an event that more than one system emits (the job runtime's `job_run.changed`):
# the envelope's `source` is then the emitting system, named when the envelope is made.
ANY_PRODUCER = "any"


@dataclass(frozen=True)
class EventSpec:
    type: str
    version: int
    producer: str
    model: builtins.type[EventData]
    description: str

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = self.model.model_json_schema()
        return schema


CATALOG: dict[tuple[str, int], EventSpec] = {}

E = TypeVar("E", bound=type[EventData])


def event(event_type: str, *, version: int = 1, producer: str) -> Callable[[E], E]:
    """Register an event schema. The docstring of the class is its description."""
    if producer not in SYSTEMS and producer != ANY_PRODUCER:
        raise ValueError(f"unknown producer {producer!r}")
    if "." not in event_type or event_type != event_type.lower():
        raise ValueError(f"event type {event_type!r} must look like 'noun.past_tense_verb'")

    def register(cls: E) -> E:
        key = (event_type, version)
        if key in CATALOG and CATALOG[key].model is not cls:
            raise ValueError(f"event {event_type} v{version} is registered twice")
        cls.event_type = event_type
        cls.event_version = version
        cls.producer = producer
        CATALOG[key] = EventSpec(
            type=event_type,
            version=version,
            producer=producer,
            model=cls,
            description=inspect.cleandoc(cls.__doc__ or ""),
        )
        return cls

    return register


def parse_envelope(detail: Mapping[str, Any]) -> Envelope[EventData]:
    """Validate a raw envelope against the catalogued schema of its type and version."""
    try:
        metadata = EventMetadata.model_validate(detail["metadata"])
    except (KeyError, TypeError, ValidationError) as exc:
        raise InvalidInput(f"Not a Ninefold event envelope: {exc.__class__.__name__}") from None
    spec = CATALOG.get((metadata.type, metadata.version))
    if spec is None:
        raise InvalidInput(f"Unknown event type {metadata.type} v{metadata.version}")
    try:
        data = spec.model.model_validate(detail.get("data"))
    except ValidationError as exc:
        raise InvalidInput(f"Event {metadata.type} has invalid data ({exc.error_count()} errors)") from None
    return Envelope[spec.model](data=data, metadata=metadata)  # type: ignore[name-defined]
