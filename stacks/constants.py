"""Every name the infrastructure shares, in one place.

Plain Python on purpose (no aws_cdk import): the local cloud and the runtime tests read these
names from the other virtualenv.

The local cloud, the tests and the Makefile read the same names, so a rename happens here
and nowhere else. Physical AWS names are avoided on purpose (CloudFormation generates them);
the exceptions are the bus, whose name is part of the event contract, and the stack names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

PROJECT: Final = "ninefold"
REPO_ROOT: Final = Path(__file__).resolve().parent.parent

# --- context keys (cdk.json, `-c key=value`, CDK_CONTEXT_JSON) -------------------------------
CONTEXT_SYSTEMS: Final = "ninefold:systems"
CONTEXT_STAGE: Final = "ninefold:stage"
DEFAULT_STAGE: Final = "dev"
PROD_STAGE: Final = "prod"
# Identity owns the authorizer every other system's routes hang on, so it cannot be left out.
MANDATORY_SYSTEMS: Final = ("identity",)

# --- stacks -----------------------------------------------------------------------------------
FOUNDATION_SYSTEM: Final = "foundation"


def stack_name(system: str) -> str:
    """`identity` -> `Ninefold-Identity`; also the construct id, so templates are `<name>.template.json`."""
    return f"Ninefold-{system.capitalize()}"


FOUNDATION_STACK: Final = stack_name(FOUNDATION_SYSTEM)

# --- tags -------------------------------------------------------------------------------------
TAG_PROJECT: Final = "project"
TAG_SYSTEM: Final = "system"


def bus_name(stage: str) -> str:
    return f"{PROJECT}-{stage}"


# Every event our code publishes has a source starting with this (`ninefold.billing`, ...).
EVENT_SOURCE_PREFIX: Final = f"{PROJECT}."
# The job runtime's run snapshots (ninefold_core.events.schemas.jobs), emitted by every system with jobs.
JOB_RUN_CHANGED: Final = "job_run.changed"

# --- Lambda -----------------------------------------------------------------------------------
# ADR 0002: python3.11 because the .pyc we ship must be compiled by the runtime's own minor version
# and this build machine only has 3.11; unchecked-hash .pyc survive the CDK's 1980 zip timestamps.
LAMBDA_PYTHON_VERSION: Final = "3.11"
DEFAULT_MEMORY_MB: Final = 256
# Queue visibility must outlast every retry of a batch inside Lambda (AWS guidance: 6x timeout).
VISIBILITY_TIMEOUT_FACTOR: Final = 6
DLQ_RETENTION_DAYS: Final = 14
ARCHIVE_RETENTION_DAYS: Final = 90
POWERTOOLS_METRICS_NAMESPACE: Final = "Ninefold"
POWERTOOLS_LOG_LEVEL: Final = "INFO"

# Handler strings are `functions.<system>.handlers.<module>.handler`: the same dotted path the
# tests import, because the system asset is laid out as `functions/<system>/**` (see bundling.py).
FUNCTIONS_PACKAGE: Final = "functions"
FUNCTIONS_DIR: Final = REPO_ROOT / FUNCTIONS_PACKAGE
CORE_LAYER_DIR: Final = REPO_ROOT / "layers" / "core"
DEPS_LAYER_DIR: Final = REPO_ROOT / "layers" / "deps"
DEPS_REQUIREMENTS: Final = DEPS_LAYER_DIR / "requirements.txt"


def handler_path(system: str, module: str) -> str:
    return f"{FUNCTIONS_PACKAGE}.{system}.handlers.{module}.handler"


# Environment variables every function gets; handlers validate them with typed settings.
ENV_STAGE: Final = "STAGE"
ENV_SYSTEM: Final = "SYSTEM"
ENV_EVENT_BUS_NAME: Final = "EVENT_BUS_NAME"
ENV_TABLE_NAME: Final = "TABLE_NAME"

# --- DynamoDB ---------------------------------------------------------------------------------
TABLE_PARTITION_KEY: Final = "pk"
TABLE_SORT_KEY: Final = "sk"
TABLE_TTL_ATTRIBUTE: Final = "ttl"

# --- HTTP API ---------------------------------------------------------------------------------
API_PATH_PREFIX: Final = "/api/"
API_VERSION_PREFIX: Final = "/api/v1"
AUTHORIZATION_HEADER: Final = "Authorization"

# --- runbooks ---------------------------------------------------------------------------------
RUNBOOK_DEAD_LETTERS: Final = "runbooks/dead-letters.md"
RUNBOOK_OUTBOX: Final = "runbooks/outbox-relay.md"
# The transactional outbox (ADR 0006): rows the relay forwards carry this marker, and the relay
# handler lives in the core layer so every system wires the same code.
OUTBOX_KIND: Final = "outbox"
OUTBOX_RELAY_HANDLER: Final = "ninefold_core.events.relay.handler"

# --- static sites -----------------------------------------------------------------------------
SITES_METADATA_KEY: Final = "Ninefold::Sites"
OPENAPI_DIR: Final = "build/openapi"
OPENAPI_FILE: Final = "openapi.json"


@dataclass(frozen=True)
class Site:
    """One folder of static files, deployed under `key_prefix` and served at `path`.

    `file` names the single document a site serves when it is not a whole folder (the OpenAPI
    document): only that path is routed to S3, the rest of the prefix stays with the API.
    """

    source_dir: str  # relative to the repo root
    key_prefix: str  # "" or ends with "/"
    file: str | None = None
    spa: bool = False

    @property
    def path(self) -> str:
        return "/" + self.key_prefix + (self.file or "")

    @property
    def source(self) -> str:
        return f"{self.source_dir}/{self.file}" if self.file else self.source_dir

    def metadata(self) -> dict[str, object]:
        entry: dict[str, object] = {"path": self.path, "source": self.source}
        if self.spa:
            entry["spa"] = True
        return entry


# Order matters for CloudFront: more specific paths first, the root site is the default behaviour.
SITES: Final = (
    Site(source_dir="sites/www", key_prefix=""),
    Site(source_dir="sites/console", key_prefix="app/", spa=True),
    Site(source_dir=OPENAPI_DIR, key_prefix="api/", file=OPENAPI_FILE),
)
