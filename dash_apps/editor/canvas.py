"""The Editor's canvas: one draggable, resizable 12-column grid per tab (dash-snap-grid, a
wrapper of react-grid-layout), each cell a component drawn with the Viewer's own renderers
and a bar of actions (edit, duplicate, delete), and each tab's filter sections.

Grid items are `{i: "cell-<component id>", x, y, w, h}`: the dashboard's layout items with
the cell prefix, so they never collide with other ids of the page.
"""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import html
from dash_snap_grid import Grid

from dash_apps.dashboard_access import OpenedDashboard
from dash_apps.service_calls import ServiceCalls
from dash_apps.viewer.context import build_context
from dash_apps.viewer.data_batch import Round, fetch
from dash_apps.viewer.frame import panel
from dash_apps.viewer.layout import ROW_HEIGHT_PX, component_body, marker
from dash_apps.viewer.queries import SELECT_LIKE
from depictio.dashboards.models import DashboardDocument, Tab
from depictio.v1 import metadata_pb2 as pb

CELL_PREFIX = "cell-"
GRID_GAP_PX = 12


def cell_id(component_id: str) -> str:
    return f"{CELL_PREFIX}{component_id}"


def action(label: str, kind: str, cid: str, color: str = "blue") -> dmc.Button:
    return dmc.Button(
        label,
        id={"type": kind, "id": cid},
        size="compact-xs",
        variant="subtle",
        color=color,
        className="dpt-no-drag",
    )


def actions(cid: str) -> dmc.Group:
    """A component's Edit, Duplicate and Delete buttons."""
    return dmc.Group(
        [
            action("Edit", "component-edit", cid),
            action("Duplicate", "component-duplicate", cid),
            action("Delete", "component-delete", cid, "red"),
        ],
        gap=0,
        wrap="nowrap",
    )


def caption(spec: dict[str, Any]) -> str:
    """A component's title (or id) and kind, as its bar shows them."""
    kind = spec.get("visu_type") or spec.get("interactive_type") or spec["type"]
    return f"{spec.get('title') or spec['id']} · {kind}"


def cell(entry: dict[str, Any], context: dict[str, Any], round_: Round, scheme: str) -> Any:
    """One grid cell: a bar to drag it by (with its actions), then the component."""
    spec = entry["spec"]
    cid = spec["id"]
    bar = dmc.Group(
        [
            dmc.Text(caption(spec), size="xs", fw=600, truncate="end"),
            actions(cid),
        ],
        justify="space-between",
        wrap="nowrap",
        className="dpt-drag-handle",
        style={"cursor": "move", "borderBottom": "1px solid var(--mantine-color-default-border)"},
    )
    return html.Div(
        panel([bar, *component_body(entry, context, round_, scheme)], style={"height": "100%"}),
        id=cell_id(cid),
        className="dpt-component dpt-editor-cell",
        style={"height": "100%"},
        **marker(cid),
    )


def tab_grid(tab: Tab, context: dict[str, Any], round_: Round, scheme: str) -> Grid:
    placed = {item.i: item for item in tab.layout}
    items = [
        {"i": cell_id(c.id), "x": p.x, "y": p.y, "w": p.w, "h": p.h}
        for c in tab.components
        if (p := placed.get(c.id)) is not None
    ]
    cells = [
        cell(context["components"][c.id], context, round_, scheme)
        for c in tab.components
        if c.id in placed
    ]
    return Grid(
        id={"type": "editor-grid", "tab": tab.id},
        cols=12,
        rowHeight=ROW_HEIGHT_PX,
        margin=[GRID_GAP_PX, GRID_GAP_PX],
        containerPadding=[0, 0],
        compactType=None,
        draggableHandle=".dpt-drag-handle",
        draggableCancel=".dpt-no-drag",
        resizeHandles=["se"],
        layout=items,
        children=cells,
    )


def off_grid(tab: Tab, context: dict[str, Any]) -> Any:
    """The tab's components without a place on the grid (filters shown in the filter panel),
    with their actions: they are edited, duplicated and deleted from here."""
    placed = {item.i for item in tab.layout}
    rows = [
        dmc.Group(
            [dmc.Text(caption(context["components"][c.id]["spec"]), size="xs"), actions(c.id)],
            gap="xs",
            className="dpt-off-grid",
            **marker(c.id),
        )
        for c in tab.components
        if c.id not in placed
    ]
    if not rows:
        return None
    return dmc.Stack(
        [dmc.Text("In the filter panel (no place on the grid)", size="xs", fw=600), *rows],
        gap=2,
    )


def sections_panel(tab: Tab) -> Any:
    """The tab's filter sections: rename, choose their interactive components, fold when the
    dashboard opens, delete."""
    controls = [
        {"value": c.id, "label": c.title or c.id} for c in tab.components if c.type == "interactive"
    ]
    rows = [
        dmc.Group(
            [
                dmc.TextInput(
                    id={"type": "section-title", "id": section.id},
                    value=section.title,
                    debounce=True,
                    size="xs",
                    label="Section",
                ),
                dmc.MultiSelect(
                    id={"type": "section-members", "id": section.id},
                    data=controls,
                    value=section.component_ids,
                    size="xs",
                    label="Interactive components",
                    placeholder="none",
                    style={"minWidth": "260px"},
                ),
                dmc.Switch(
                    id={"type": "section-collapsed", "id": section.id},
                    checked=section.collapsed,
                    label="Folded when opened",
                    size="xs",
                ),
                dmc.Button(
                    "Delete section",
                    id={"type": "section-delete", "id": section.id},
                    size="compact-xs",
                    color="red",
                    variant="light",
                ),
            ],
            align="flex-end",
            className="dpt-section",
            **{"data-section": section.id},
        )
        for section in tab.filter_sections
    ]
    if not rows:
        return dmc.Text("No filter sections in this tab.", size="xs", c="dimmed")
    return dmc.Stack(rows, gap="xs")


def render_canvas(
    calls: ServiceCalls,
    token: str,
    project: pb.Project,
    document: DashboardDocument,
    active_tab: str | None,
    scheme: str,
) -> Any:
    """Every tab with its grid and sections; components drawn with unfiltered data (one
    batched query for the components, one for the options of select-like controls)."""
    opened = OpenedDashboard(pb.Dashboard(), project, document, True)
    context = build_context(calls, token, opened)
    components = context["components"]
    data_targets = [
        cid for cid, e in components.items() if e["spec"]["type"] not in ("interactive", "text")
    ]
    option_targets = [
        cid
        for cid, e in components.items()
        if e["spec"]["type"] == "interactive" and e["spec"]["interactive_type"] in SELECT_LIKE
    ]
    state: dict[str, Any] = {"controls": {}, "selections": {}}
    round_ = fetch(calls, token, context, state, data_targets)
    options = fetch(calls, token, context, state, option_targets, filtered=False)
    round_.results |= options.results
    round_.errors |= options.errors
    tab_ids = [t.id for t in document.tabs]
    value = active_tab if active_tab in tab_ids else tab_ids[0]
    return dmc.Tabs(
        [
            dmc.TabsList(
                [dmc.TabsTab(t.title, value=t.id, id=f"tab-{t.id}") for t in document.tabs]
            ),
            *[
                dmc.TabsPanel(
                    dmc.Stack(
                        [
                            sections_panel(t),
                            off_grid(t, context),
                            tab_grid(t, context, round_, scheme),
                        ]
                    ),
                    value=t.id,
                    pt="sm",
                )
                for t in document.tabs
            ],
        ],
        id="editor-tabs",
        value=value,
        keepMounted=False,
    )
