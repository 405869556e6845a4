"""What each system tells the isolation suite about its routes: one module per system.

Importing this package imports every module in it, so a new `<system>.py` here is picked up
without touching the suite. See ../README.md for seeders, body factories and exemptions.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
