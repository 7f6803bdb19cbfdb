"""Drawing a dashboard's thumbnails: the Viewer page in headless Chromium, light and dark.

The page is opened as the user the token belongs to (the session cookie the UI reads), in a
1280×800 window drawn at a fraction of a pixel per CSS pixel, so that Chromium itself yields
the small picture: no image library needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from dash_apps.session import ACCESS_COOKIE
from dash_apps.shell import SCHEME_COOKIE, Scheme
from depictio.headless_chromium import CHROMIUM, CHROMIUM_ARGS

if TYPE_CHECKING:
    # Playwright types its cookies only in its private module.
    from playwright._impl._api_structures import SetCookieParam

SCHEMES: tuple[Scheme, ...] = ("light", "dark")
WINDOW_WIDTH, WINDOW_HEIGHT = 1280, 800
THUMBNAIL_WIDTH = 480
NAVIGATION_TIMEOUT_MS = 45_000
DRAW_TIMEOUT_MS = 30_000
# "drawn" once the first round of data is on the page (the server renders it), no Dash
# callback is pending and every figure has been drawn by Plotly (loaded on demand);
# "refused" when the UI says the dashboard is not there for this user.
DRAWN = """() => {
    if (document.querySelector('#viewer-refused')) { return 'refused'; }
    if (!document.querySelector('#dashboard-title')) { return ''; }
    if (document.querySelector('[data-dash-is-loading="true"]')) { return ''; }
    for (const graph of document.querySelectorAll('.dpt-component .dash-graph')) {
        const plot = graph.querySelector('.js-plotly-plot');
        if (!plot || !plot._fullLayout) { return ''; }
    }
    return 'drawn';
}"""
# The picture is of the dashboard alone: without the UI's header, which names the user.
HIDE_HEADER = "header { display: none !important; }"
TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


class ThumbnailError(RuntimeError):
    """The dashboard could not be drawn (the message says what the page showed)."""


def _draw(browser: Browser, ui_url: str, dashboard_id: str, token: str, scheme: Scheme) -> bytes:
    base = ui_url.rstrip("/")
    host = urlsplit(base).hostname or "127.0.0.1"
    context = browser.new_context(
        viewport={"width": WINDOW_WIDTH, "height": WINDOW_HEIGHT},
        device_scale_factor=THUMBNAIL_WIDTH / WINDOW_WIDTH,
        color_scheme=scheme,
    )
    try:
        cookies: list[SetCookieParam] = [
            {"name": SCHEME_COOKIE, "value": scheme, "domain": host, "path": "/"}
        ]
        if token:
            cookies.append({"name": ACCESS_COOKIE, "value": token, "domain": host, "path": "/"})
        context.add_cookies(cookies)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"{base}/dashboard/{dashboard_id}", wait_until="load")
        _wait_until_drawn(page, dashboard_id)
        page.add_style_tag(content=HIDE_HEADER)
        page.evaluate(TWO_FRAMES)
        return page.screenshot(type="png", animations="disabled", caret="hide")
    finally:
        context.close()


def _wait_until_drawn(page: Page, dashboard_id: str) -> None:
    try:
        outcome = page.wait_for_function(DRAWN, timeout=DRAW_TIMEOUT_MS, polling=200)
        if outcome.json_value() == "refused":
            raise ThumbnailError(
                f"dashboard '{dashboard_id}' was not drawn: the UI said "
                f'"{_shown(page, "#viewer-refused")}"'
            )
        page.wait_for_load_state("networkidle", timeout=DRAW_TIMEOUT_MS)
    except PlaywrightError as exc:
        raise ThumbnailError(
            f"dashboard '{dashboard_id}' was not drawn within {DRAW_TIMEOUT_MS // 1000} s; "
            f"the page showed: {_shown(page, 'body') or '(nothing)'}"
        ) from exc


def _shown(page: Page, selector: str) -> str:
    """The text of an element, on one line, at most 200 characters."""
    return " ".join(page.locator(selector).inner_text(timeout=2_000).split())[:200]


def render_thumbnails(
    ui_url: str, dashboard_id: str, access_token: str, schemes: tuple[Scheme, ...] = SCHEMES
) -> dict[Scheme, bytes]:
    """PNG pictures (480×300) of the dashboard as the UI at `ui_url` shows it to the holder of
    `access_token` ('' in single-user mode), one per colour scheme.

    Synchronous (Playwright's sync API): call it where no asyncio loop runs in the thread.
    Raises ThumbnailError when the page never shows the drawn dashboard (no access, no such
    dashboard, or a UI that does not answer).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return {
                scheme: _draw(browser, ui_url, dashboard_id, access_token, scheme)
                for scheme in schemes
            }
        finally:
            browser.close()
