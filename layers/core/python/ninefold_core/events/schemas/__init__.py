"""Event schemas, one module per producing system. Importing registers them."""

from ninefold_core.events.schemas import identity, jobs, workflows  # noqa: F401
