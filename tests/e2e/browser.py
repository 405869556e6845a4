"""Which Chromium the browser tests drive.

Order: `PLAYWRIGHT_CHROMIUM_EXECUTABLE`, then Debian/Ubuntu's Chromium (machines
whose network cannot reach Playwright's CDN), then Playwright's own browser.
`python -m tests.e2e.browser --ensure` installs Playwright's browser only when
no Chromium is found at all.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def system_chromium() -> str | None:
    override = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE")
    if override:
        return override
    for candidate in CANDIDATES:
        if pathlib.Path(candidate).exists():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def playwright_has_chromium() -> bool:
    cache = pathlib.Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH", pathlib.Path.home() / ".cache" / "ms-playwright"))
    mac_cache = pathlib.Path.home() / "Library" / "Caches" / "ms-playwright"
    return any(p.exists() and any(p.glob("chromium-*")) for p in (cache, mac_cache))


def ensure() -> int:
    if system_chromium() or playwright_has_chromium():
        return 0
    print("no Chromium found: installing Playwright's", file=sys.stderr)
    return subprocess.call([sys.executable, "-m", "playwright", "install", "chromium"])


if __name__ == "__main__":
    raise SystemExit(ensure() if "--ensure" in sys.argv else 0)
