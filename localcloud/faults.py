"""Test hook: make a function fail (or return a canned value) without touching its code."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_UNSET: Any = object()


@dataclass
class Fault:
    exc: BaseException | None
    result: Any
    remaining: int | None  # None: until cleared

    @property
    def returns_result(self) -> bool:
        return self.exc is None and self.result is not _UNSET


class FaultInjector:
    def __init__(self, resolve: Callable[[str], str]) -> None:
        """`resolve` turns a user's target (construct path, name, ARN...) into a function key."""
        self._resolve = resolve
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()

    def inject(
        self,
        target: str,
        exc: BaseException | None = None,
        times: int | None = None,
        result: Any = _UNSET,
    ) -> None:
        """Fail the next `times` invocations of `target` with `exc` (all of them if None).

        With `result` instead of `exc`, those invocations return `result` without
        running the handler (a stubbed dependency).
        """
        if exc is None and result is _UNSET:
            exc = RuntimeError("fault injected by the local cloud")
        if times is not None and times <= 0:
            raise ValueError("times must be positive (or None for 'until cleared')")
        key = self._resolve(target)
        with self._lock:
            self._faults[key] = Fault(exc=exc, result=result, remaining=times)

    def clear(self, target: str | None = None) -> None:
        with self._lock:
            if target is None:
                self._faults.clear()
            else:
                self._faults.pop(self._resolve(target), None)

    def take(self, key: str) -> Fault | None:
        """The fault for this invocation, counting it down."""
        with self._lock:
            fault = self._faults.get(key)
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[key]
            return fault

    def active(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {
                key: {
                    "error": type(fault.exc).__name__ if fault.exc else None,
                    "remaining": fault.remaining,
                }
                for key, fault in self._faults.items()
            }
