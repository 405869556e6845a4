from __future__ import annotations

from ninefold_core.config import BaseConfig


class SafetyConfig(BaseConfig):
    pass
