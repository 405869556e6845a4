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


def test_importing_handlers_reads_no_configuration() -> None:
    # Cold starts stay cheap and imports never fail on a missing variable. A fresh interpreter,
    # as a cold Lambda has: re-importing in this process would leave two copies of each module
    # (two job registries, two store classes) for the tests that run after this one.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in GOOD}
    handlers = [
        "functions.identity.handlers.api",
        "functions.identity.handlers.authorizer",
        "functions.safety.handlers.api",
        "functions.safety.handlers.audit_consumer",
        "functions.workflows.handlers.api",
        "functions.workflows.handlers.worker",
    ]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    done = subprocess.run([sys.executable, "-c", code, *handlers], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
