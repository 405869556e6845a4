"""Per-invocation environment variables inside one process.

Lambda gives every function its own process and environment. Here all
functions share one process and may run at the same time in different threads
(an HTTP request, a queue poller and a Step Functions task at once). Swapping
`os.environ` around each call would leak one function's variables into
another's concurrent call, and serialising every invocation behind one lock
would deadlock as soon as a handler's AWS call leads back to another handler
(Step Functions -> moto -> Lambda hook).

So the existing `os.environ` object gets a subclass (its `__class__` is
swapped, which keeps every reference taken earlier -- botocore's providers,
`os.getenv` -- pointing at the same object) whose reads and writes go to a
mapping held in a `ContextVar` while an invocation runs, and to the real
process environment otherwise. Threads a handler starts itself do not inherit
the context and see the process environment (documented limitation).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar[MutableMapping[str, str] | None] = ContextVar("localcloud_environ", default=None)


class _OverlayEnviron(os._Environ[str]):
    """`os.environ` that reads the invocation's mapping when one is active."""

    def __getitem__(self, key: str) -> str:
        overlay = _current.get()
        if overlay is None:
            return super().__getitem__(key)
        return overlay[key]

    def __setitem__(self, key: str, value: str) -> None:
        overlay = _current.get()
        if overlay is None:
            super().__setitem__(key, value)
            return
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"str expected, not {type(value).__name__}")
        overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = _current.get()
        if overlay is None:
            super().__delitem__(key)
            return
        del overlay[key]

    def __iter__(self) -> Iterator[str]:
        overlay = _current.get()
        if overlay is None:
            return super().__iter__()
        return iter(list(overlay))

    def __len__(self) -> int:
        overlay = _current.get()
        return super().__len__() if overlay is None else len(overlay)

    def __contains__(self, key: object) -> bool:
        overlay = _current.get()
        if overlay is None:
            return super().__contains__(key)
        return key in overlay

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __repr__(self) -> str:
        overlay = _current.get()
        if overlay is None:
            return super().__repr__()
        return f"environ(invocation){dict(overlay)!r}"


def install() -> None:
    """Idempotent; inert until `use()` activates an overlay in a context."""
    if type(os.environ) is os._Environ:
        os.environ.__class__ = _OverlayEnviron


def installed() -> bool:
    return isinstance(os.environ, _OverlayEnviron)


@contextmanager
def use(environment: MutableMapping[str, str]) -> Iterator[MutableMapping[str, str]]:
    """Run the block with `environment` as this context's `os.environ`."""
    install()
    token = _current.set(environment)
    try:
        yield environment
    finally:
        _current.reset(token)


def active() -> MutableMapping[str, str] | None:
    return _current.get()


def process_value(key: str, default: Any = None) -> Any:
    """The real process variable, even inside an invocation."""
    token = _current.set(None)
    try:
        return os.environ.get(key, default)
    finally:
        _current.reset(token)
