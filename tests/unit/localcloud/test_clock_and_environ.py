"""The warp clock, and per-invocation environment variables."""

from __future__ import annotations

import os
import threading
import time

import pytest

from localcloud import environ
from localcloud.clock import WarpClock

pytestmark = pytest.mark.unit


def test_advance_moves_now_and_notifies() -> None:
    clock = WarpClock(real_time=lambda: 1000.0)
    seen: list[float] = []
    before: list[float] = []
    clock.on_advance(seen.append)
    clock.before_advance(before.append)
    assert clock.advance(60) == 1060.0
    assert clock.now() == 1060.0
    assert clock.now_ms() == 1060000
    assert seen == [1060.0]
    assert before == [1000.0]
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_sleepers_wake_when_the_clock_jumps_past_their_deadline() -> None:
    clock = WarpClock()
    done = threading.Event()

    def sleeper() -> None:
        clock.sleep(3 * 86400)
        done.set()

    threading.Thread(target=sleeper, daemon=True).start()
    time.sleep(0.05)
    assert not done.is_set()
    clock.advance(3 * 86400)
    assert done.wait(1)


def test_sleep_can_be_cancelled() -> None:
    clock = WarpClock()
    cancelled = threading.Event()
    started = time.monotonic()
    threading.Timer(0.1, cancelled.set).start()
    assert clock.sleep(3600, cancelled=cancelled.is_set) is False
    assert time.monotonic() - started < 1


def test_overlay_replaces_reads_and_writes_inside_the_block_only() -> None:
    os.environ["LOCALCLOUD_TEST_OUTER"] = "outer"
    try:
        with environ.use({"ONLY": "inner"}) as env:
            assert os.environ.get("LOCALCLOUD_TEST_OUTER") is None
            assert os.getenv("ONLY") == "inner"
            assert "ONLY" in os.environ
            assert len(os.environ) == 1
            assert dict(os.environ) == {"ONLY": "inner"}
            os.environ["WRITTEN"] = "w"
            del os.environ["ONLY"]
            assert env == {"WRITTEN": "w"}
            assert environ.process_value("LOCALCLOUD_TEST_OUTER") == "outer"
        assert os.environ["LOCALCLOUD_TEST_OUTER"] == "outer"
        assert "WRITTEN" not in os.environ
    finally:
        del os.environ["LOCALCLOUD_TEST_OUTER"]


def test_concurrent_overlays_do_not_see_each_other() -> None:
    results: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        with environ.use({"NAME": name}):
            barrier.wait()
            time.sleep(0.02)
            results[name] = os.environ.get("NAME")

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"a": "a", "b": "b"}
    assert environ.installed()


def test_other_threads_see_the_process_environment() -> None:
    seen: list[str | None] = []
    with environ.use({"PATH": "/nowhere"}):
        thread = threading.Thread(target=lambda: seen.append(os.environ.get("PATH")))
        thread.start()
        thread.join()
    assert seen[0] != "/nowhere"
