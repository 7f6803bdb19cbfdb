"""The Editor in a browser, on the penguins demo: a dashboard built from nothing (a scatter
coloured by species, a mean body-mass card, a species multi-select, a table), dragged and
resized, saved, reloaded, edited, restored, exported and imported; tabs; refusals.

Stored documents are read back through the gateway's dashboard API; expected values are
computed with pandas from deploy/demo/penguins/runs, never read from the page first.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from playwright.sync_api import Dialog, Page, expect

from .accounts import Account, add_member, register
from .browser import shot, sign_in
from .conftest import People, UiStack
from .editor_steps import add_component, blank_dashboard, choose, done, offered, penguins

pytestmark = pytest.mark.timeout(400)

ROW_PX, GAP_PX = 60, 12


@pytest.fixture(scope="module")
def penguin_editor(
    ui_stack: UiStack, gateway: httpx.Client, admin_token: str, people: People
) -> Account:
    """An editor of the penguins project (the shared editor edits only the iris one)."""
    account = register(gateway, "penguin-editor")
    add_member(gateway, admin_token, ui_stack.penguins.project_id, account.email, "editor")
    return account


def stored(gateway: httpx.Client, token: str, dashboard_id: str, version: int = 0) -> Any:
    path = f"/api/v1/dashboards/{dashboard_id}" + (f"/versions/{version}" if version else "")
    response = gateway.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def cell(page: Page, title: str) -> Any:
    return page.locator(".react-grid-item", has=page.locator(".dpt-editor-cell", has_text=title))


def drag(page: Page, handle: Any, dx: float, dy: float) -> None:
    """Presses on the handle and moves the mouse by (dx, dy) in steps, as a hand would."""
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + min(box["width"] / 2, 30), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=12)
    page.mouse.up()


def grid_layout(page: Page) -> dict[str, dict[str, int]]:
    """The grid items' places in grid units, measured on the page (12 columns)."""
    measured: list[dict[str, Any]] = page.evaluate(
        """() => {
            const grid = document.querySelector('.react-grid-layout');
            const outer = grid.getBoundingClientRect();
            return Array.from(grid.querySelectorAll('.react-grid-item')).map(el => {
                const r = el.getBoundingClientRect();
                const id = el.querySelector('[data-component]').getAttribute('data-component');
                return {i: id, left: r.left - outer.left, top: r.top - outer.top,
                        width: r.width, height: r.height, total: outer.width};
            });
        }"""
    )
    places = {}
    for m in measured:
        column = (m["total"] - GAP_PX * 11) / 12 + GAP_PX
        places[m["i"]] = {
            "x": round(m["left"] / column),
            "y": round(m["top"] / (ROW_PX + GAP_PX)),
            "w": round((m["width"] + GAP_PX) / column),
            "h": round((m["height"] + GAP_PX) / (ROW_PX + GAP_PX)),
        }
    return places


def settled_grid_layout(page: Page) -> dict[str, dict[str, int]]:
    """grid_layout once the items stop moving (after a drag they glide to their places)."""
    previous = grid_layout(page)
    for _ in range(50):
        page.wait_for_timeout(150)
        current = grid_layout(page)
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"the grid items kept moving: {previous}")


def layout_of(document: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        item["i"]: {k: item[k] for k in ("x", "y", "w", "h")}
        for tab in document["tabs"]
        for item in tab["layout"]
    }


def ids_by_title(document: dict[str, Any]) -> dict[str, str]:
    return {c["title"]: c["id"] for tab in document["tabs"] for c in tab["components"]}


def test_build_a_dashboard_from_nothing_save_reload_restore_export_import(
    page: Page,
    ui_stack: UiStack,
    gateway: httpx.Client,
    admin_token: str,
    penguin_editor: Account,
    tmp_path: Path,
) -> None:
    frame = penguins()
    adelie = frame[frame["species"] == "Adelie"]
    title = f"Built in the editor {uuid.uuid4().hex[:6]}"
    dashboard_id = blank_dashboard(gateway, admin_token, ui_stack.penguins.project_id, title)
    sign_in(page, penguin_editor.email, penguin_editor.password, f"/dashboard-edit/{dashboard_id}")
    expect(page.locator("#editor-title")).to_have_text(title)

    # A species multi-select: a text column offers no slider.
    add_component(page, "interactive", "Species", [("cfg-column", "species · text")])
    controls = offered(page, "cfg-interactive")
    assert "multiselect" in controls and "range_slider" not in controls and "slider" not in controls
    choose(page, "cfg-interactive", "multiselect")
    expect(page.locator("#preview-body input[type=text]")).to_be_visible()
    done(page, "Species")
    shot(page, "editor-multiselect-added")

    # Choose Adelie on the canvas: the card's preview honours it.
    page.click('[data-component] [id*="filter-select"] >> nth=0')
    page.get_by_role("option", name="Adelie", exact=True).click()
    page.keyboard.press("Escape")
    add_component(page, "card", "Mean body mass", [("cfg-column", "species · text")])
    text_aggregations = offered(page, "cfg-aggregation")
    assert "mean" not in text_aggregations and "count" in text_aggregations
    choose(page, "cfg-column", "body_mass_g · numeric")
    assert "mean" in offered(page, "cfg-aggregation")
    choose(page, "cfg-aggregation", "mean")
    expect(page.locator(".dpt-preview-filter")).to_contain_text("Adelie")
    expect(page.locator("#preview-body .dpt-card-value")).to_have_text(
        f"{round(adelie['body_mass_g'].mean(), 4):,.4f}".rstrip("0").rstrip(".")
    )
    shot(page, "editor-card-preview-filtered")
    done(page, "Mean body mass")

    add_component(page, "figure", "Bills", [])
    # Nothing to draw yet: the stepper says what the chart needs (it previewed empty axes).
    expect(page.locator("#stepper-error")).to_have_text("x: a scatter chart needs x or y")
    expect(page.locator("#preview-body .js-plotly-plot")).to_have_count(0)
    choose(page, "cfg-x", "bill_length_mm · numeric")
    choose(page, "cfg-y", "bill_depth_mm · numeric")
    choose(page, "cfg-color", "species · text")
    expect(page.locator("#stepper-error")).to_have_text("")
    expect(page.locator("#preview-body .js-plotly-plot")).to_be_visible()
    done(page, "Bills")
    add_component(page, "table", "Rows", [])
    expect(page.locator("#preview-body .ag-root")).to_be_visible()
    done(page, "Rows")

    # A filter section holding the multi-select.
    page.fill("#section-new-title", "Filters")
    page.click("#section-add")
    section = page.locator(".dpt-section")
    expect(section).to_have_count(1)
    section.get_by_role("textbox", name="Interactive components").click()
    page.get_by_role("option", name="Species", exact=True).click()
    page.keyboard.press("Escape")
    # The canvas follows at once: the filter leaves the grid for the filter panel's list.
    expect(page.locator(".dpt-editor-cell").get_by_text("Species", exact=True)).to_have_count(0)
    expect(page.locator(".dpt-off-grid")).to_contain_text("Species")
    section.get_by_role("switch", name="Folded when opened").check()
    expect(page.locator("#editor-dirty")).to_have_text("Unsaved changes")

    # Drag the scatter to the right, widen the card by its resize handle.
    before = settled_grid_layout(page)
    drag(page, cell(page, "Bills").locator(".dpt-drag-handle"), 300, 0)
    drag(page, cell(page, "Mean body mass").locator(".react-resizable-handle"), 200, 75)
    moved = settled_grid_layout(page)
    page.click("#editor-save")
    expect(page.locator("#editor-saved-as")).to_have_text("Saved as version 2")
    expect(page.locator("#editor-dirty")).to_have_text("Saved")
    shot(page, "editor-built-and-saved")
    version2 = stored(gateway, admin_token, dashboard_id)
    assert version2["version"] == 2
    ids = ids_by_title(version2["document"])
    saved_layout = layout_of(version2["document"])
    assert saved_layout == moved
    scatter, card = ids["Bills"], ids["Mean body mass"]
    assert saved_layout[scatter]["x"] > before[scatter]["x"]
    assert saved_layout[card]["w"] > before[card]["w"]
    assert saved_layout[card]["h"] > before[card]["h"]
    sections = version2["document"]["tabs"][0]["filter_sections"]
    assert [(s["component_ids"], s["collapsed"]) for s in sections] == [([ids["Species"]], True)]
    # In its section, the multi-select has no grid place (the old canvas kept its cell, and the
    # next grid change put it back in the layout).
    assert ids["Species"] not in saved_layout

    # Reload: the same places, and nothing unsaved.
    page.reload()
    expect(page.locator(".dpt-editor-cell")).to_have_count(3)
    expect(page.locator("#editor-dirty")).to_have_text("Saved")
    assert settled_grid_layout(page) == saved_layout
    rows = cell(page, "Rows")
    rows.scroll_into_view_if_needed()
    expect(rows.locator(".ag-header-cell-text", has_text="individual_id")).to_be_visible()
    expect(rows.locator(".ag-row").first).to_be_visible()
    assert layout_of(stored(gateway, admin_token, dashboard_id)["document"]) == saved_layout

    # Edit the card's title, save again, then restore version 2.
    cell(page, "Mean body mass").get_by_role("button", name="Edit").click()
    expect(page.locator("#cfg-title")).to_have_value("Mean body mass")
    page.fill("#cfg-title", "Mean mass (g)")
    done(page, "Mean mass (g)")
    page.fill("#editor-title-input", f"{title} v3")
    page.click("#editor-save")
    expect(page.locator("#editor-saved-as")).to_have_text("Saved as version 3")
    version3 = stored(gateway, admin_token, dashboard_id)
    assert ids_by_title(version3["document"])["Mean mass (g)"] == card
    assert version3["document"]["title"] == f"{title} v3"

    page.click("#history-open")
    expect(page.locator(".dpt-version")).to_have_count(3)
    page.locator('.dpt-version[data-version="2"]').get_by_role("button").click()
    expect(page.locator("#editor-saved-as")).to_have_text("Version 2 restored as version 4")
    expect(page.locator("#editor-title")).to_have_text(title)
    expect(page.locator(".dpt-editor-cell", has_text="Mean body mass")).to_be_visible()
    restored = stored(gateway, admin_token, dashboard_id)
    assert restored["version"] == 4
    assert restored["document"] == version2["document"]
    shot(page, "editor-restored")

    # Export the YAML, import it as a new dashboard, open that in the Viewer.
    with page.expect_download() as download:
        page.click("#editor-export")
    exported = tmp_path / "exported.yaml"
    download.value.save_as(exported)
    data = yaml.safe_load(exported.read_text(encoding="utf-8"))
    assert {k: data[k] for k in version2["document"]} == version2["document"]
    page.set_input_files("#editor-import input[type=file]", str(exported))
    link = page.locator("#imported-view-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href and href.startswith("/dashboard/") and href != f"/dashboard/{dashboard_id}"
    imported = stored(gateway, admin_token, href.removeprefix("/dashboard/"))
    assert imported["document"] == version2["document"]
    assert imported["project_id"] == ui_stack.penguins.project_id
    link.click()
    expect(page.locator("#dashboard-title")).to_have_text(title)
    for title_, component_id in ids.items():
        if title_ != "Species":
            expect(page.locator(f'[data-component="{component_id}"]')).to_be_visible()
    # The multi-select sits in the section saved as folded: shown once it is opened.
    species = page.locator(f'[data-component="{ids["Species"]}"]')
    expect(species).to_be_hidden()
    page.get_by_role("button", name="Filters", exact=True).click()
    expect(species).to_be_visible()
    value = page.locator(f"#component-{card} .dpt-card-value")
    expect(value).not_to_have_text("")
    assert float(value.inner_text().replace(",", "")) == round(frame["body_mass_g"].mean(), 4)
    table = page.locator(f"#component-{ids['Rows']}")
    table.scroll_into_view_if_needed()
    expect(table.locator(".ag-row").first).to_be_visible()
    expect(table).to_contain_text(f"of {len(frame)}")
    shot(page, "editor-imported-in-viewer")


def tab_titles(page: Page) -> list[str]:
    return page.locator("#editor-tabs [role=tab]").all_inner_texts()


def test_tabs_and_component_actions(
    page: Page,
    ui_stack: UiStack,
    gateway: httpx.Client,
    admin_token: str,
    penguin_editor: Account,
) -> None:
    dashboard_id = blank_dashboard(gateway, admin_token, ui_stack.penguins.project_id, "Tabs")
    sign_in(page, penguin_editor.email, penguin_editor.password, f"/dashboard-edit/{dashboard_id}")
    expect(page.locator("#tab-delete")).to_be_disabled()

    page.fill("#tab-title-input", "Second")
    page.click("#tab-add")
    expect(page.locator("#editor-tabs [role=tab]")).to_have_count(2)
    expect(page.locator("#tab-second")).to_have_attribute("aria-selected", "true")
    page.fill("#tab-title-input", "Renamed")
    page.click("#tab-rename")
    expect(page.locator("#tab-second")).to_have_text("Renamed")
    page.click("#tab-left")
    expect(page.locator("#editor-tabs [role=tab]")).to_have_text(["Renamed", "Main"])

    # A text component on the new tab, duplicated, then the original deleted.
    page.click("#add-component")
    page.click("#stepper-next")
    page.click("#stepper-type-text")
    page.click("#stepper-next")
    page.fill("#cfg-title", "Note")
    page.fill("#cfg-content", "**Penguins** of the Palmer archipelago")
    expect(page.locator("#preview-body strong")).to_have_text("Penguins")
    done(page, "Note")
    cell(page, "Note").get_by_role("button", name="Duplicate").click()
    expect(page.locator(".dpt-editor-cell")).to_have_count(2)
    page.locator('.dpt-editor-cell[data-component="component"]').get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.locator(".dpt-editor-cell")).to_have_count(1)
    expect(page.locator(".dpt-editor-cell")).to_contain_text("Note (copy)")
    page.click("#editor-save")
    expect(page.locator("#editor-saved-as")).to_have_text("Saved as version 2")
    document = stored(gateway, admin_token, dashboard_id)["document"]
    assert [t["title"] for t in document["tabs"]] == ["Renamed", "Main"]
    assert [c["title"] for c in document["tabs"][0]["components"]] == ["Note (copy)"]
    assert [i["i"] for i in document["tabs"][0]["layout"]] == ["component_copy"]
    shot(page, "editor-tabs")

    page.click("#tab-second")
    page.click("#tab-delete")
    expect(page.locator("#editor-tabs [role=tab]")).to_have_text(["Main"])
    expect(page.locator("#tab-delete")).to_be_disabled()

    # Leaving with unsaved changes asks first (they were lost without a word); staying keeps
    # them. Once saved, the page is left without a question.
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    expect(page.locator("#editor-dirty")).to_have_text("Unsaved changes")
    page.get_by_role("link", name="Dashboards", exact=True).click()
    expect(page.locator("#editor-dirty")).to_have_text("Unsaved changes")
    assert asked == ["beforeunload"]
    assert urlsplit(page.url).path == f"/dashboard-edit/{dashboard_id}"
    page.click("#editor-save")
    expect(page.locator("#editor-dirty")).to_have_text("Saved")
    page.get_by_role("link", name="Dashboards", exact=True).click()
    page.wait_for_url("**/dashboards")
    assert asked == ["beforeunload"]


def test_a_save_over_a_newer_version_shows_the_servers_refusal(
    page: Page,
    ui_stack: UiStack,
    gateway: httpx.Client,
    admin_token: str,
    penguin_editor: Account,
) -> None:
    dashboard_id = blank_dashboard(gateway, admin_token, ui_stack.penguins.project_id, "Race")
    sign_in(page, penguin_editor.email, penguin_editor.password, f"/dashboard-edit/{dashboard_id}")
    other = page.context.new_page()
    other.goto(f"/dashboard-edit/{dashboard_id}")
    expect(other.locator("#editor-title")).to_have_text("Race")
    page.fill("#editor-title-input", "Race won")
    expect(page.locator("#editor-dirty")).to_have_text("Unsaved changes")
    page.click("#editor-save")
    expect(page.locator("#editor-saved-as")).to_have_text("Saved as version 2")

    other.fill("#editor-description", "written over an old version")
    other.click("#editor-save")
    expect(other.locator("#editor-error")).to_contain_text("version")
    expect(other.locator("#editor-dirty")).to_have_text("Unsaved changes")
    shot(other, "editor-save-refused")
    assert stored(gateway, admin_token, dashboard_id)["document"]["title"] == "Race won"
    # Its history marks the newest version current, and says why its save was refused.
    other.click("#history-open")
    expect(other.locator(".dpt-version")).to_have_count(2)
    expect(other.locator('.dpt-version[data-version="2"]')).to_contain_text("current")
    expect(other.locator('.dpt-version[data-version="1"]').get_by_role("button")).to_have_text(
        "Restore"
    )
    expect(other.locator("#history-stale")).to_contain_text(
        "This editor holds version 1; version 2 was saved since"
    )


def test_viewers_and_anonymous_visitors_get_no_editor(
    page: Page, ui_stack: UiStack, people: People
) -> None:
    """test_viewer checks the refusal on the iris dashboard; here the full editor's tools
    are absent too, on the penguins one."""
    path = f"/dashboard-edit/{ui_stack.penguins.dashboard_id}"
    page.goto(path)
    expect(page.locator("#message-page")).to_contain_text("Sign in")
    sign_in(page, people.viewer.email, people.viewer.password, path)
    expect(page.locator("#message-page")).to_contain_text("Only the project's editors and owners")
    for tool in ("#add-component", "#editor-save", "#editor-canvas", "#editor-import"):
        expect(page.locator(tool)).to_have_count(0)
    shot(page, "editor-refused-viewer")


def test_a_dashboard_without_components_says_so_and_where_to_add_them(
    page: Page,
    ui_stack: UiStack,
    gateway: httpx.Client,
    admin_token: str,
    penguin_editor: Account,
    people: People,
) -> None:
    dashboard_id = blank_dashboard(gateway, admin_token, ui_stack.penguins.project_id, "Empty")
    sign_in(page, penguin_editor.email, penguin_editor.password, f"/dashboard/{dashboard_id}")
    expect(page.locator(".dpt-empty-tab")).to_have_text(
        "Nothing to show here yet: this tab has no components. "
        "Add some in the editor (Edit, above)."
    )
    page.context.clear_cookies()
    sign_in(page, people.viewer.email, people.viewer.password, f"/dashboard/{dashboard_id}")
    expect(page.locator(".dpt-empty-tab")).to_have_text(
        "Nothing to show here yet: this tab has no components."
    )


def test_a_filter_in_the_filter_panel_is_edited_from_the_editor(
    page: Page, ui_stack: UiStack, people: People
) -> None:
    # The iris demo's filter has no grid place (it sits in the filter panel): it had no cell,
    # so no Edit, Duplicate or Delete.
    path = f"/dashboard-edit/{ui_stack.iris.dashboard_id}"
    sign_in(page, people.editor.email, people.editor.password, path)
    row = page.locator('.dpt-off-grid[data-component="variety_filter"]')
    expect(row).to_contain_text("Variety · multiselect")
    expect(page.locator('.dpt-editor-cell[data-component="variety_filter"]')).to_have_count(0)
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#cfg-title")).to_have_value("Variety")
    expect(row.get_by_role("button", name="Duplicate")).to_be_visible()
    expect(row.get_by_role("button", name="Delete")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#cfg-title")).to_be_hidden()

    # Taken out of its section, the filter gets a grid cell on the canvas at once.
    page.locator(".dpt-section .mantine-Pill-remove").first.click()
    expect(page.locator('.dpt-editor-cell[data-component="variety_filter"]')).to_have_count(1)
    expect(row).to_have_count(0)
    expect(page.locator("#editor-dirty")).to_have_text("Unsaved changes")
