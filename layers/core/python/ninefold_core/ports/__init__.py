"""Provider ports: each external provider is an abstract port here, implemented by a vendor
adapter, a local adapter and an in-memory fake in the owning system, all held to one
conformance suite. See docs/decisions/0005-provider-ports.md and docs/providers.md.

Importing this package loads pydantic and pybreaker only; vendor SDKs and botocore are
imported by the code that uses them.
"""

from ninefold_core.ports.base import (
    DEFAULT_TIMEOUT_SECONDS,
    Classifier,
    Guard,
    ProviderCircuitOpen,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    SimulatedFault,
    classify_transport_error,
    error_for_status,
    exception_chain,
    guarded_call,
    make_breaker,
)
from ninefold_core.ports.breaker import (
    DynamoDBBreakerStorage,
    breaker_for,
    clear_breaker_cache,
)
from ninefold_core.ports.email import (
    DeliveredEmail,
    EmailMessage,
    EmailSender,
    SentEmail,
    SentEmailLookup,
)

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "Classifier",
    "DeliveredEmail",
    "DynamoDBBreakerStorage",
    "EmailMessage",
    "EmailSender",
    "Guard",
    "ProviderCircuitOpen",
    "ProviderError",
    "ProviderRejected",
    "ProviderTimeout",
    "ProviderUnavailable",
    "SentEmail",
    "SentEmailLookup",
    "SimulatedFault",
    "breaker_for",
    "classify_transport_error",
    "clear_breaker_cache",
    "error_for_status",
    "exception_chain",
    "guarded_call",
    "make_breaker",
]
