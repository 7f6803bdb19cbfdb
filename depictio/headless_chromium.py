"""Debian's Chromium, headless: where it is and the flags every process that drives it uses.

Playwright drives it with `executable_path` (never `playwright install`): the worker draws
dashboard thumbnails with it, the browser tests and benchmarks open the UI in it.
"""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
# Nothing that phones home, no GPU, no sandbox (containers and CI run it as an unprivileged
# user without user namespaces).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
