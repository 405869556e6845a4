"""A background loop that `wait_idle` can ask: "run once more now -- was there anything to do?"."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("localcloud.workers")


class Worker:
    name = "worker"
    idle_interval = 1.0

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._cycles = threading.Condition()
        self._started = 0
        self._completed = 0
        self._last_busy = False
        self.status = ""  # why the last cycle was busy, for wait_idle's message
        self.backing_off = False  # busy, but only waiting for real time (a retry backoff)
        self._thread: threading.Thread | None = None

    # -- to override ------------------------------------------------------

    def cycle(self) -> bool:
        """Do what is due; True if there was work (so another cycle should follow)."""
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"localcloud-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def kick(self) -> None:
        self._wake.set()

    def settle(self, timeout: float) -> bool | None:
        """Run a cycle that starts after this call: True if it found nothing to do,
        False if it was busy, None if it did not finish within `timeout`."""
        with self._cycles:
            target = self._started + 1
        self.kick()
        with self._cycles:
            finished = self._cycles.wait_for(lambda: self._completed >= target or self.stopping, timeout)
            if not finished:
                return None
            return not self._last_busy

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            # Cleared before the cycle, so a kick during the cycle triggers the next one.
            self._wake.clear()
            with self._cycles:
                self._started += 1
                number = self._started
            try:
                busy = self.cycle()
                failures = 0
            except Exception:
                failures += 1
                log.exception("%s failed", self.name)
                busy = False
                self._stopping.wait(min(5.0, 0.2 * 2**failures))
            with self._cycles:
                self._completed = number
                self._last_busy = busy
                self._cycles.notify_all()
            if not busy:
                self._wake.wait(self.idle_interval)
