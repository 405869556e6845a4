"""Events produced by identity & access."""

from __future__ import annotations

from pydantic import Field

from ninefold_core.events.catalog import event
from ninefold_core.events.envelope import EventData


@event("workspace.renamed", producer="identity")
class WorkspaceRenamed(EventData):
    """A workspace (tenant) got a new display name."""

    workspace_id: str
    old_name: str
    new_name: str = Field(min_length=1, max_length=100)
