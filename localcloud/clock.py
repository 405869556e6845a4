"""The one clock of the local cloud.

Warped time = real time + an offset that only `advance` changes. Everything
that waits for "later" (SQS visibility, Step Functions waits and retries, the
scheduler, TTL, authorizer caches) asks this clock, so a test can jump three
days ahead and see due work happen at once instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

Listener = Callable[[float], None]

# Sleepers re-check at least this often (real seconds) so that an interrupt
# event (an execution being stopped, the cloud shutting down) is noticed.
_POLL_INTERRUPT = 0.25


class WarpClock:
    def __init__(self, real_time: Callable[[], float] = time.time) -> None:
        self._real_time = real_time
        self._offset = 0.0
        self._changed = threading.Condition()
        self._listeners: list[Listener] = []
        self._before: list[Listener] = []
        self._sleepers = 0

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        """Warped epoch seconds."""
        return self._real_time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def utcnow(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), tz=dt.UTC)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        before = self.now()
        for observer in list(self._before):
            observer(before)
        with self._changed:
            self._offset += seconds
            self._changed.notify_all()
        now = self.now()
        for listener in list(self._listeners):
            listener(now)
        return now

    def on_advance(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def before_advance(self, observer: Listener) -> None:
        """Called with the time just before a jump (e.g. to note schedules created since the last look)."""
        self._before.append(observer)

    def remove_listener(self, listener: Listener) -> None:
        for registry in (self._listeners, self._before):
            if listener in registry:
                registry.remove(listener)

    def sleep(self, seconds: float, cancelled: Callable[[], bool] | None = None) -> bool:
        return self.sleep_until(self.now() + max(0.0, seconds), cancelled)

    @property
    def sleepers(self) -> int:
        """Threads parked in `sleep`/`sleep_until` (Step Functions waits and retries)."""
        return self._sleepers

    def sleep_until(self, deadline: float, cancelled: Callable[[], bool] | None = None) -> bool:
        """Block until warped time reaches `deadline`; False if `cancelled()` turns true first."""
        with self._changed:
            self._sleepers += 1
            try:
                while True:
                    remaining = deadline - self.now()
                    if remaining <= 0:
                        return True
                    if cancelled is not None and cancelled():
                        return False
                    self._changed.wait(min(remaining, _POLL_INTERRUPT) if cancelled is not None else remaining)
            finally:
                self._sleepers -= 1

    def wait_for_change(self, real_timeout: float) -> None:
        """Wake on the next `advance`, or after `real_timeout` real seconds."""
        with self._changed:
            self._changed.wait(real_timeout)
