"""One envelope, one catalog, one way onto the bus.

Importing this package registers every event schema (`schemas`), so the catalog
is complete wherever the envelope is used.
"""

from ninefold_core.events import schemas as _schemas  # noqa: F401  (registers the catalog)
from ninefold_core.events.catalog import CATALOG, EventSpec, event, parse_envelope
from ninefold_core.events.envelope import Correlation, Envelope, EventData, EventMetadata, new_envelope

__all__ = [
    "CATALOG",
    "Correlation",
    "Envelope",
    "EventData",
    "EventMetadata",
    "EventSpec",
    "event",
    "new_envelope",
    "parse_envelope",
]
