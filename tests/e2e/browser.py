"""Driving the UI in Chromium: launch options, signing in and screenshots kept as artifacts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# How long a callback's outcome may take to show before a check fails.
TIMEOUT_MS = 20_000
# How long a page may take to load: a fresh context fetches and compiles every script anew,
# which on a busy machine takes a while.
NAVIGATION_TIMEOUT_MS = 45_000


@contextmanager
def fresh_page(
    browser: Browser, base_url: str, width: int = 1280, height: int = 900, scale: float = 1
) -> Iterator[Page]:
    """A page in a browser context of its own (no cookies) on `base_url`, with the tests'
    timeouts, on a screen of `scale` pixels per CSS pixel; the context is closed when the
    block ends."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Page, name: str) -> Path:
    """Saves a full-page screenshot as tests/e2e/artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, email: str, password: str, path: str = "/") -> None:
    """Signs in through the UI's sign-in form, which then leads to `path`."""
    page.goto(f"/login?next={path}")
    page.fill("#sign-in-email", email)
    page.fill("#sign-in-password", password)
    page.click("#sign-in-submit")
    expect(page.locator("#current-user")).to_have_text(email)


def expect_thumbnail(page: Page, dashboard_id: str, scheme: str) -> None:
    """The list shows the dashboard's picture in `scheme`, loaded (480 pixels wide)."""
    picture = page.locator(f"img#dashboard-thumbnail-{dashboard_id}")
    source = re.compile(rf"^/thumbnails/{dashboard_id}/{scheme}\.png\?v=\d+$")
    expect(picture).to_have_attribute("src", source)
    page.wait_for_function(
        f"document.getElementById('dashboard-thumbnail-{dashboard_id}')?.naturalWidth === 480"
    )
