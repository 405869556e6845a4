from __future__ import annotations

import pytest

from ninefold_core.config import BaseConfig, load_config
from ninefold_core.errors import ConfigurationError

GOOD = {
    "STAGE": "dev",
    "SYSTEM": "identity",
    "POWERTOOLS_SERVICE_NAME": "identity",
    "EVENT_BUS_NAME": "bus",
    "TABLE_NAME": "table",
}


def test_config_is_read_from_the_given_environment() -> None:
    config = load_config(BaseConfig, GOOD)
    assert config.table_name == "table"
    assert config.event_source == "ninefold.identity"


def test_a_missing_variable_is_named_without_echoing_values() -> None:
    env = {**GOOD, "EVENT_BUS_NAME": "secret-looking-value"}
    del env["TABLE_NAME"]
    with pytest.raises(ConfigurationError) as raised:
        load_config(BaseConfig, env)
    assert "TABLE_NAME" in str(raised.value)
    assert "secret-looking-value" not in str(raised.value)


def test_an_empty_table_name_is_not_a_default() -> None:
    with pytest.raises(ConfigurationError):
        load_config(BaseConfig, {**GOOD, "TABLE_NAME": ""})


def test_importing_handlers_reads_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    # Cold starts stay cheap and imports never fail on a missing variable.
    import importlib
    import sys

    for key in GOOD:
        monkeypatch.delenv(key, raising=False)
    for module in [m for m in sys.modules if m.startswith("functions.")]:
        del sys.modules[module]
    importlib.import_module("functions.identity.handlers.api")
    importlib.import_module("functions.identity.handlers.authorizer")
    importlib.import_module("functions.safety.handlers.api")
    importlib.import_module("functions.safety.handlers.audit_consumer")
