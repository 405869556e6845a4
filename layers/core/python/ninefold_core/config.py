"""Typed configuration, read from the environment at handler entry.

Each system composes `BaseConfig` with its own fields. `load_config` is called
inside the handler (never at import time), validates once per distinct
environment, and fails with a `ConfigurationError` that names the missing or
bad variables without echoing their values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ninefold_core.errors import ConfigurationError


class BaseConfig(BaseModel):
    """Variables every Ninefold function gets from its stack."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: str = Field(alias="STAGE", min_length=1)
    system: str = Field(alias="SYSTEM", min_length=1)
    service: str = Field(alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    log_level: str = Field(default="INFO", alias="POWERTOOLS_LOG_LEVEL")
    local: bool = Field(default=False, alias="NINEFOLD_LOCAL")

    @property
    def event_source(self) -> str:
        return f"ninefold.{self.system}"


ConfigT = TypeVar("ConfigT", bound=BaseModel)

_cache: dict[tuple[type[BaseModel], frozenset[tuple[str, str]]], BaseModel] = {}


def load_config(model: type[ConfigT], environ: Mapping[str, str] | None = None) -> ConfigT:
    env = os.environ if environ is None else environ
    names = {field.alias or name for name, field in model.model_fields.items()}
    relevant = frozenset((k, env[k]) for k in names if k in env)
    key = (model, relevant)
    cached = _cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    try:
        config = model.model_validate(dict(relevant))
    except ValidationError as exc:
        problems = ", ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_input=False)
        )
        raise ConfigurationError(f"{model.__name__} is invalid ({problems})") from None
    _cache[key] = config
    return config
