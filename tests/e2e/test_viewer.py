"""The Viewer in a browser, on the iris demo dashboard: filtering, cross-filtering by lasso,
reset, table paging/sorting/export, the dark theme, and who sees what.

Expected values are computed with pandas from deploy/demo/iris/iris.csv, never read from the
page first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pandas as pd
import pytest
from conftest import MakeStack, settings_from_env
from playwright.sync_api import Browser, Page, expect

from depictio.cli.demo import load_demo

from .accounts import access_token
from .browser import fresh_page, shot, sign_in
from .conftest import People, UiStack

pytestmark = pytest.mark.timeout(180)

IRIS = pd.read_csv(Path(__file__).resolve().parents[2] / "deploy" / "demo" / "iris" / "iris.csv")
SCATTER = "#component-sepal_scatter .js-plotly-plot"
DARK_SCATTER = f"document.querySelector('{SCATTER}')?.layout?.font?.color === '#c9c9c9'"
# The brightness (0–255) of the table's background, as the page paints it.
GRID_BRIGHTNESS = """() => {
    const grid = document.querySelector('.dpt-component .ag-root-wrapper');
    if (!grid) { return null; }
    const [r, g, b] = getComputedStyle(grid).backgroundColor.match(/[0-9.]+/g).map(Number);
    return (r + g + b) / 3;
}"""
# A component's panel as painted: its border's width and colour, its background, and its
# title's font weight.
PANEL_LOOK = """() => {
    const panel = getComputedStyle(document.querySelector('#component-sepal_scatter'));
    const title = getComputedStyle(document.querySelector('#component-sepal_scatter .dpt-title'));
    return {border: panel.borderTopWidth + ' ' + panel.borderTopStyle,
            borderColor: panel.borderTopColor, background: panel.backgroundColor,
            page: getComputedStyle(document.body).backgroundColor, weight: title.fontWeight};
}"""
# The lasso drawn on the sepal scatter, in data coordinates (sepal.length, sepal.width); its
# corners sit between measured values (0.05 steps) so no flower lies on its edge.
LASSO = [(4.25, 2.95), (5.85, 2.95), (6.35, 3.65), (5.85, 4.45), (4.25, 4.45)]


def generation(page: Page) -> int:
    return int(page.inner_text("#render-generation"))


def wait_for_generation(page: Page, value: int) -> None:
    """Waits until the results of filter state `value` are on the page, painted."""
    page.wait_for_function(
        f"document.getElementById('render-generation').textContent === '{value}'"
    )
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def card_value(page: Page, component_id: str) -> str:
    return page.inner_text(f"#component-{component_id} .dpt-card-value")


def card_number(page: Page, component_id: str) -> float:
    """A card's number (cards show 4 decimals at most)."""
    return float(card_value(page, component_id).replace(",", ""))


def scatter_points(page: Page) -> int:
    """Points drawn on the sepal scatter (once Plotly, loaded on demand, has drawn it)."""
    page.wait_for_function(f"(document.querySelector('{SCATTER}') || {{}}).data?.length > 0")
    return int(
        page.evaluate(
            f"() => document.querySelector('{SCATTER}').data"
            ".reduce((n, t) => n + (t.x ? t.x.length : 0), 0)"
        )
    )


def table_total(page: Page) -> str:
    caption = page.locator('#component-iris_rows [id*="table-caption"]').inner_text()
    return caption.rsplit(" of ", 1)[-1]


def open_iris(page: Page, ui_stack: UiStack) -> None:
    page.goto(f"/dashboard/{ui_stack.iris.dashboard_id}")
    expect(page.locator("#dashboard-title")).to_have_text("Iris (demo)")
    expect(page.locator("#component-flower_count .dpt-card-value")).to_have_text("150")


def inside(polygon: list[tuple[float, float]], x: float, y: float) -> bool:
    """Even-odd rule: whether (x, y) lies inside the polygon."""
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            result = not result
    return result


def lasso(page: Page, polygon: list[tuple[float, float]]) -> None:
    """Draws a lasso through the polygon's corners (data coordinates) on the sepal scatter."""
    page.hover(SCATTER)
    page.click(f'{SCATTER} .modebar-btn[data-val="lasso"]')
    corners: list[dict[str, float]] = page.evaluate(
        """([selector, polygon]) => {
            const gd = document.querySelector(selector);
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
            return polygon.map(([x, y]) => ({x: box.left + xa.d2p(x), y: box.top + ya.d2p(y)}));
        }""",
        [SCATTER, polygon],
    )
    page.mouse.move(corners[0]["x"], corners[0]["y"])
    page.mouse.down()
    for corner in [*corners[1:], corners[0]]:
        page.mouse.move(corner["x"], corner["y"], steps=8)
    page.mouse.up()


def test_choosing_virginica_filters_every_component(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    virginica = IRIS[IRIS["variety"] == "Virginica"]
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    assert card_number(page, "mean_sepal_length") == round(IRIS["sepal.length"].mean(), 4)
    assert scatter_points(page) == len(IRIS)
    shot(page, "viewer-iris-open")

    page.click("#component-variety_filter input")
    page.get_by_role("option", name="Virginica").click()
    page.keyboard.press("Escape")
    wait_for_generation(page, 1)

    assert card_number(page, "mean_sepal_length") == round(virginica["sepal.length"].mean(), 4)
    assert card_value(page, "flower_count") == str(len(virginica))
    assert scatter_points(page) == len(virginica) == 50
    assert table_total(page) == str(len(virginica))
    expect(page.locator(".dpt-active-filter")).to_contain_text(["Virginica"], ignore_case=True)
    shot(page, "viewer-iris-virginica")


def test_the_page_keeps_the_browsers_native_parsing_and_trimming_after_dashs_polyfill(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    """Dash's @babel/polyfill swaps parseInt, parseFloat and the String trims for slow copies
    (Plotly parses every colour with them); the page puts the natives back. The copies are
    told apart by U+180E, which they take for white space and the natives do not."""
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    assert page.evaluate("() => window._babelPolyfill === true")
    kept = page.evaluate(
        r"""() => [
            Number.isNaN(parseInt("\u180e7")), Number.isNaN(Number.parseInt("\u180e7")),
            Number.isNaN(parseFloat("\u180e7")), Number.isNaN(Number.parseFloat("\u180e7")),
            "\u180e".trim() === "\u180e", "\u180e".trimStart() === "\u180e",
            "\u180e".trimEnd() === "\u180e",
        ]"""
    )
    assert kept == [True] * 7
    assert page.evaluate("() => [parseInt(' 08'), parseFloat('1.5e3'), ' a '.trim()]") == [
        8,
        1500,
        "a",
    ]
    assert scatter_points(page) == len(IRIS)


def test_lasso_on_the_scatter_filters_the_table_and_reset_restores_all(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    chosen = IRIS[
        [
            inside(LASSO, x, y)
            for x, y in zip(IRIS["sepal.length"], IRIS["sepal.width"], strict=True)
        ]
    ]
    assert 0 < len(chosen) < len(IRIS)
    requests: list[str] = []
    page.on(
        "request",
        lambda r: requests.append(r.url) if "_dash-update-component" in r.url else None,
    )
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    requests.clear()

    lasso(page, LASSO)
    wait_for_generation(page, 1)
    assert table_total(page) == str(len(chosen))
    assert card_value(page, "flower_count") == str(len(chosen))
    assert card_number(page, "mean_sepal_length") == round(chosen["sepal.length"].mean(), 4)
    # The scatter itself still shows every flower, with the lasso drawn on it.
    assert scatter_points(page) == len(IRIS)
    assert len(requests) == 1, requests
    shot(page, "viewer-iris-lasso")

    page.click("#viewer-reset")
    wait_for_generation(page, 2)
    assert table_total(page) == "150"
    assert card_value(page, "flower_count") == "150"
    assert card_number(page, "mean_sepal_length") == round(IRIS["sepal.length"].mean(), 4)
    expect(page.locator(".dpt-active-filter")).to_have_count(0)
    shot(page, "viewer-iris-reset")


def test_table_pages_sorts_and_exports_on_the_server(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    table = page.locator("#component-iris_rows")
    table.get_by_role("button", name="2", exact=True).click()
    expect(table.locator('[id*="table-caption"]')).to_have_text("Rows 26–50 of 150")
    first_cell = table.locator('.ag-row[row-index="0"] [col-id="sepal.length"]')
    expect(first_cell).to_have_text(f"{IRIS['sepal.length'].iloc[25]:g}")

    table.locator('.ag-header-cell[col-id="sepal.length"]').click()  # ascending
    table.locator('.ag-header-cell[col-id="sepal.length"]').click()  # descending
    descending = IRIS.sort_values("sepal.length", ascending=False, kind="stable")
    expect(first_cell).to_have_text(f"{descending['sepal.length'].iloc[25]:g}")

    with page.expect_download() as download:
        table.get_by_role("button", name="CSV").click()
    exported = pd.read_csv(download.value.path())
    assert len(exported) == len(IRIS)
    assert list(exported["sepal.length"]) == list(descending["sepal.length"])


def test_a_filter_change_takes_the_table_back_to_its_first_page_sorted_as_it_was(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    # On page 6 of 150 rows, a filter keeping 50 (2 pages) showed an empty page 6 of 2.
    setosa = IRIS[IRIS["variety"] == "Setosa"]
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    table = page.locator("#component-iris_rows")
    caption = table.locator('[id*="table-caption"]')
    header = table.locator('.ag-header-cell[col-id="sepal.length"]')
    header.click()  # ascending
    header.click()  # descending
    table.get_by_role("button", name="6", exact=True).click()
    expect(caption).to_have_text("Rows 126–150 of 150")

    page.click("#component-variety_filter input")
    page.get_by_role("option", name="Setosa").click()
    expect(caption).to_have_text("Rows 1–25 of 50")
    descending = setosa.sort_values("sepal.length", ascending=False, kind="stable")
    first_cell = table.locator('.ag-row[row-index="0"] [col-id="sepal.length"]')
    expect(first_cell).to_have_text(f"{descending['sepal.length'].iloc[0]:g}")
    expect(table.get_by_role("button", name="1", exact=True)).to_have_attribute(
        "data-active", "true"
    )
    # Paging on from there asks for page 2 of the filtered rows.
    table.get_by_role("button", name="2", exact=True).click()
    expect(caption).to_have_text("Rows 26–50 of 50")
    expect(first_cell).to_have_text(f"{descending['sepal.length'].iloc[25]:g}")


def test_dark_theme_restyles_the_page_and_its_figures(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    page.wait_for_function(f"() => ({GRID_BRIGHTNESS})() > 200")
    light = page.evaluate(PANEL_LOOK)
    page.locator("#scheme-switch").check(force=True)
    expect(page.locator("html")).to_have_attribute("data-mantine-color-scheme", "dark")
    page.wait_for_function(DARK_SCATTER)
    # Component panels: bordered, titled in bold, on the page's own background in both
    # schemes (their border follows the scheme).
    dark = page.evaluate(PANEL_LOOK)
    for look in (light, dark):
        assert look["border"] == "1px solid" and look["weight"] == "600"
        assert look["background"] == look["page"]
    assert light["background"] != dark["background"]
    assert light["borderColor"] != dark["borderColor"]
    # The table follows the scheme too (AG Grid's own theme).
    page.wait_for_function(f"() => ({GRID_BRIGHTNESS})() !== null && ({GRID_BRIGHTNESS})() < 80")
    shot(page, "viewer-iris-dark")

    page.reload()  # the choice is kept, and the page comes back dark from the server
    expect(page.locator("html")).to_have_attribute("data-mantine-color-scheme", "dark")
    page.wait_for_function(f"() => ({GRID_BRIGHTNESS})() !== null && ({GRID_BRIGHTNESS})() < 80")
    expect(page.locator("#component-flower_count .dpt-card-value")).to_have_text("150")
    page.wait_for_function(DARK_SCATTER)
    virginica = IRIS[IRIS["variety"] == "Virginica"]
    page.click("#component-variety_filter input")
    page.get_by_role("option", name="Virginica").click()
    page.keyboard.press("Escape")
    wait_for_generation(page, 1)
    assert card_number(page, "mean_sepal_length") == round(virginica["sepal.length"].mean(), 4)
    shot(page, "viewer-iris-dark-virginica")


def test_only_editors_see_the_edit_button_and_reach_the_editor(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    dashboard = ui_stack.iris.dashboard_id
    sign_in(page, people.viewer.email, people.viewer.password)
    open_iris(page, ui_stack)
    expect(page.locator("#edit-dashboard")).to_have_count(0)
    page.goto(f"/dashboard-edit/{dashboard}")
    expect(page.locator("#message-page")).to_contain_text("Only the project's editors and owners")
    shot(page, "viewer-refused-editor")

    page.context.clear_cookies()
    sign_in(page, people.editor.email, people.editor.password)
    open_iris(page, ui_stack)
    expect(page.locator("#edit-dashboard")).to_be_visible()
    page.click("#edit-dashboard")
    expect(page.locator("#editor-title")).to_have_text("Iris (demo)")


def test_a_non_member_gets_a_clear_no_access_page(
    page: Page, people: People, private_dashboard: str
) -> None:
    sign_in(page, people.outsider.email, people.outsider.password)
    page.goto(f"/dashboard/{private_dashboard}")
    expect(page.locator("#viewer-refused")).to_contain_text("No access")
    expect(page.locator("#viewer-refused")).to_contain_text("Ask one of the project's owners")
    expect(page.locator(".dpt-component")).to_have_count(0)
    shot(page, "viewer-no-access")

    page.context.clear_cookies()
    sign_in(page, people.admin.email, people.admin.password)
    page.goto(f"/dashboard/{private_dashboard}")
    expect(page.locator("#component-note")).to_contain_text("Members only")


def test_a_visitor_signs_in_from_a_dashboards_address_and_lands_on_it(
    page: Page, people: People, ui_stack: UiStack
) -> None:
    path = f"/dashboard/{ui_stack.iris.dashboard_id}"
    page.goto(path)
    expect(page.locator("#viewer-refused")).to_contain_text("Sign in required")
    expect(page.locator("#nav-sign-in")).to_have_attribute("href", f"/login?next={path}")
    page.click("#sign-in-link")
    page.fill("#sign-in-email", people.viewer.email)
    page.fill("#sign-in-password", people.viewer.password)
    page.click("#sign-in-submit")
    expect(page.locator("#dashboard-title")).to_have_text("Iris (demo)")
    assert urlparse(page.url).path == path


@pytest.fixture(scope="module")
def public_mode(make_stack: MakeStack) -> Iterator[tuple[str, dict[str, Any]]]:
    """A stack in public mode with the demo projects: (UI URL, iris demo)."""
    with make_stack(ui=True, DEPICTIO_AUTH_MODE="public") as stack:
        settings = settings_from_env(stack.env)
        loaded = {d.name: d for d in load_demo(stack.gateway_url, settings, stack.admin_password)}
        iris = loaded["Iris (demo)"]
        with httpx.Client(base_url=stack.gateway_url) as gateway:
            token = access_token(gateway, stack.admin_email, stack.admin_password)
        yield stack.ui_url, {"dashboard_id": iris.dashboard_id, "token": token}


def test_public_mode_shows_public_dashboards_to_anonymous_visitors_read_only(
    browser: Browser, public_mode: tuple[str, dict[str, Any]]
) -> None:
    ui_url, iris = public_mode
    with fresh_page(browser, ui_url) as page:
        page.goto(f"/dashboard/{iris['dashboard_id']}")
        expect(page.locator("#component-flower_count .dpt-card-value")).to_have_text("150")
        expect(page.locator("#nav-sign-in")).to_be_visible()
        expect(page.locator("#edit-dashboard")).to_have_count(0)
        virginica = IRIS[IRIS["variety"] == "Virginica"]
        page.click("#component-variety_filter input")
        page.get_by_role("option", name="Virginica").click()
        page.keyboard.press("Escape")
        wait_for_generation(page, 1)
        assert card_value(page, "flower_count") == str(len(virginica))
        shot(page, "viewer-public-anonymous")

        page.goto(f"/dashboard-edit/{iris['dashboard_id']}")
        expect(page.locator("#message-page")).to_contain_text("Sign in")
        expect(page.locator("#editor-title")).to_have_count(0)


def test_public_mode_leads_anonymous_visitors_to_public_projects_and_dashboards(
    browser: Browser, public_mode: tuple[str, dict[str, Any]]
) -> None:
    ui_url, iris = public_mode
    with fresh_page(browser, ui_url) as page:
        page.goto("/")
        expect(page.locator("#nav-projects")).to_be_visible()
        expect(page.locator("#nav-dashboards")).to_be_visible()
        expect(page.locator("#nav-tokens")).to_have_count(0)
        project = page.get_by_role("link", name="Iris (demo)")
        expect(project).to_be_visible()
        project.click()
        expect(page.locator("#project-role")).to_contain_text("Your role")
        expect(page.get_by_text("iris_table").first).to_be_visible()
        page.click("#nav-dashboards")
        dashboard = page.locator(f'a[href="/dashboard/{iris["dashboard_id"]}"]').first
        expect(dashboard).to_be_visible()
        shot(page, "management-public-anonymous")
        # What only signed-in users have still asks for a sign-in.
        page.goto("/tokens")
        expect(page.locator("#sign-in-email")).to_be_visible()
