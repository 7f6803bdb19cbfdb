"""The Viewer page of one dashboard: header, filter panel, tabs, the grid and its components.

Ids: every component sits in a container `component-<id>` (class `dpt-component`); its
parts use pattern-matching ids `{"type": <part>, "id": <component id>}` so that one callback
updates every component of a kind.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import dcc, html

from dash_apps.dashboard_access import OpenedDashboard
from dash_apps.shell import device_pixel_ratio
from dash_apps.viewer.controls import control
from dash_apps.viewer.data_batch import Round
from dash_apps.viewer.figures import base_layout, figure, graph_config, shown_points
from dash_apps.viewer.frame import footer, panel, small_text, title
from dash_apps.viewer.queries import table_columns
from dash_apps.viewer.values import card_body, rows_caption, sample_note, table_rows
from depictio.clients.data import result_table
from depictio.dashboards.models import Tab

ROW_HEIGHT_PX = 60
GRID_GAP_PX = 12
# Grid rows shown without scrolling on a usual screen (about 1,000 px high): their components
# load with the page when the window's height is not known.
FOLD_ROWS = 12
# What stands above the grid: the header, the dashboard's title and its tabs.
GRID_TOP_PX = 160


def marker(cid: str) -> dict[str, Any]:
    """The attribute by which the page finds a component's container (visibility, tests)."""
    return {"data-component": cid}


def sectioned_controls(tab: Tab) -> set[str]:
    """Ids of the tab's controls shown in its filter panel rather than on the grid."""
    return {cid for section in tab.filter_sections for cid in section.component_ids}


def fold_rows(viewport_height: int | None) -> int:
    """How many grid rows the first screen of a window `viewport_height` px high shows, the
    last one partly included (FOLD_ROWS when the height is not known)."""
    if viewport_height is None:
        return FOLD_ROWS
    return max(1, -(-(viewport_height - GRID_TOP_PX) // (ROW_HEIGHT_PX + GRID_GAP_PX)))


def above_fold(tab: Tab, viewport_height: int | None) -> list[str]:
    """Ids of the tab's grid components within the first screen."""
    placed = {item.i: item for item in tab.layout}
    rows = fold_rows(viewport_height)
    return [
        component.id
        for component in tab.components
        if component.id in placed and placed[component.id].y < rows
    ]


def figure_body(entry: dict[str, Any], round_: Round, scheme: str) -> list[Any]:
    spec = entry["spec"]
    cid = spec["id"]
    result = round_.results.get(cid)
    # A figure not fetched yet (off-screen, folded) gets its layout now: later rounds patch
    # only its data.
    shown = (
        figure(spec, result_table(result), scheme)
        if result is not None
        else {"data": [], "layout": base_layout(spec, scheme)}
    )
    sampled = sample_note(result, shown_points(shown)) if result is not None else ""
    return [
        dcc.Graph(
            id={"type": "figure", "id": cid},
            figure=shown,
            config=graph_config(device_pixel_ratio()),
            style={"flex": "1", "minHeight": 0},
        ),
        footer(
            [
                small_text(sampled, "orange", id={"type": "sample-note", "id": cid}),
                dmc.Button(
                    "Load all",
                    id={"type": "load-all", "id": cid},
                    size="compact-xs",
                    variant="light",
                    style={} if sampled else {"display": "none"},
                ),
            ]
        ),
    ]


def table_body(entry: dict[str, Any], context: dict[str, Any], round_: Round) -> list[Any]:
    spec = entry["spec"]
    cid = spec["id"]
    columns = table_columns(spec, context["types"].get(entry["dc"], {}))
    result = round_.results.get(cid)
    size = int(spec.get("page_size", 50))
    total = result.total_rows if result is not None else 0
    return [
        dcc.Store(id={"type": "table-view", "id": cid}, data={"page": 1, "sort": []}),
        dcc.Store(id={"type": "table-request", "id": cid}),
        dag.AgGrid(
            id={"type": "table", "id": cid},
            columnDefs=[{"field": c, "headerName": c, "sortable": True} for c in columns],
            rowData=table_rows(result_table(result)) if result is not None else [],
            defaultColDef={"resizable": True, "flex": 1, "minWidth": 90},
            dashGridOptions={
                "suppressFieldDotNotation": True,
                "rowSelection": {"mode": "multiRow"},
                "animateRows": False,
            },
            style={"flex": "1", "minHeight": 0},
            className="ag-theme-quartz",
        ),
        footer(
            [
                small_text(
                    rows_caption(result, 1, size) if result is not None else "",
                    id={"type": "table-caption", "id": cid},
                ),
                dmc.Pagination(
                    id={"type": "table-pager", "id": cid},
                    total=max(1, -(-total // size)),
                    value=1,
                    size="xs",
                ),
                dmc.Button(
                    "CSV",
                    id={"type": "table-export", "id": cid},
                    size="compact-xs",
                    variant="light",
                ),
                dcc.Download(id={"type": "table-download", "id": cid}),
            ],
            spread=True,
        ),
    ]


def component_body(
    entry: dict[str, Any], context: dict[str, Any], round_: Round, scheme: str
) -> Any:
    """The inside of one component's container."""
    spec = entry["spec"]
    cid = spec["id"]
    kind = spec["type"]
    if kind == "text":
        return [dcc.Markdown(spec.get("content", ""), className="dpt-text")]
    if kind == "figure":
        body = figure_body(entry, round_, scheme)
    elif kind == "card":
        result = round_.results.get(cid)
        body = [
            html.Div(
                card_body(spec, result_table(result)) if result is not None else [],
                id={"type": "card-body", "id": cid},
                className="dpt-card",
            )
        ]
    elif kind == "table":
        body = table_body(entry, context, round_)
    else:
        body = [control(entry, context, round_)]
    error = round_.errors.get(cid, entry.get("error", ""))
    return [
        *body,
        small_text(error, "red", id={"type": "component-error", "id": cid}),
    ]


def container(
    entry: dict[str, Any],
    context: dict[str, Any],
    round_: Round,
    scheme: str,
    style: dict[str, Any],
) -> html.Div:
    spec = entry["spec"]
    heading = spec.get("title", "")
    return panel(
        [
            *([title(heading)] if heading and spec["type"] != "interactive" else []),
            *component_body(entry, context, round_, scheme),
        ],
        style,
        "dpt-component",
        id=f"component-{spec['id']}",
        **marker(spec["id"]),
    )


def tab_grid(tab: Tab, context: dict[str, Any], round_: Round, scheme: str) -> html.Div:
    """The tab's components placed on a 12-column grid."""
    in_panel = sectioned_controls(tab)
    placed = {item.i: item for item in tab.layout}
    cells = []
    for component in tab.components:
        item = placed.get(component.id)
        if component.id in in_panel or item is None:
            continue
        style = {
            "gridColumn": f"{item.x + 1} / span {item.w}",
            "gridRow": f"{item.y + 1} / span {item.h}",
            # The grid sizes each cell, never its content: a cell's layout is then its own,
            # and the page measuring one graph (Plotly measures its text as it draws) lays
            # out that cell again, not the whole page.
            "contain": "strict",
        }
        cells.append(container(context["components"][component.id], context, round_, scheme, style))
    return html.Div(
        cells,
        className="dpt-grid",
        style={
            "display": "grid",
            "gridTemplateColumns": "repeat(12, minmax(0, 1fr))",
            "gridAutoRows": f"{ROW_HEIGHT_PX}px",
            "gap": f"{GRID_GAP_PX}px",
        },
    )


def filter_panel(tab: Tab, context: dict[str, Any], round_: Round) -> Any:
    """The tab's filter sections as an accordion (folded sections fetch nothing)."""
    if not tab.filter_sections:
        return None
    return dmc.Accordion(
        [
            dmc.AccordionItem(
                [
                    dmc.AccordionControl(section.title or "Filters"),
                    dmc.AccordionPanel(
                        dmc.Stack(
                            [
                                html.Div(
                                    control(context["components"][cid], context, round_),
                                    id=f"component-{cid}",
                                    className="dpt-component dpt-control",
                                    **marker(cid),
                                )
                                for cid in section.component_ids
                            ]
                        )
                    ),
                ],
                value=f"{tab.id}/{section.id}",
            )
            for section in tab.filter_sections
        ],
        id={"type": "filter-sections", "id": tab.id},
        multiple=True,
        value=[f"{tab.id}/{s.id}" for s in tab.filter_sections if not s.collapsed],
        variant="separated",
    )


def empty_tab(opened: OpenedDashboard) -> dmc.Text:
    """What a tab without components shows (to editors: where to add some)."""
    more = " Add some in the editor (Edit, above)." if opened.can_edit else ""
    return dmc.Text(
        f"Nothing to show here yet: this tab has no components.{more}",
        c="dimmed",
        className="dpt-empty-tab",
        py="xl",
    )


def viewer_page(
    opened: OpenedDashboard,
    context: dict[str, Any],
    round_: Round,
    scheme: str,
    state: dict[str, Any],
    rendered: dict[str, str],
) -> Any:
    """The whole Viewer page."""
    document = opened.document
    defaults = state["controls"]
    panels = []
    for tab in document.tabs:
        panel = filter_panel(tab, context, round_)
        grid = tab_grid(tab, context, round_, scheme) if tab.components else empty_tab(opened)
        body = dmc.Grid(
            [dmc.GridCol(panel, span=3), dmc.GridCol(grid, span=9)]
            if panel
            else [dmc.GridCol(grid, span=12)]
        )
        panels.append(dmc.TabsPanel(body, value=tab.id, pt="sm"))
    tabs_list = dmc.TabsList(
        [dmc.TabsTab(tab.title, value=tab.id, id=f"tab-{tab.id}") for tab in document.tabs],
        style={} if len(document.tabs) > 1 else {"display": "none"},
    )
    edit = (
        [
            dmc.Anchor(
                dmc.Button("Edit", variant="outline", size="xs"),
                href=f"/dashboard-edit/{opened.dashboard.id}",
                id="edit-dashboard",
                refresh=True,
            )
        ]
        if opened.can_edit
        else []
    )
    return html.Div(
        [
            dcc.Store(id="viewer-context", data=context),
            dcc.Store(id="filter-state", data={**state, "generation": 0}),
            dcc.Store(id="control-defaults", data=defaults),
            dcc.Store(id="rendered", data=rendered),
            dcc.Store(id="visible-components", data=None),
            dcc.Store(id="load-all", data=[]),
            dcc.Store(id="refresh-request"),
            dmc.Group(
                [
                    dmc.Stack(
                        [
                            dmc.Title(document.title, order=2, id="dashboard-title"),
                            dmc.Text(document.description, c="dimmed", size="sm"),
                        ],
                        gap=0,
                    ),
                    dmc.Group(
                        [
                            html.Div(id="active-filters", className="dpt-active-filters"),
                            dmc.Button(
                                "Reset filters", id="viewer-reset", variant="light", size="xs"
                            ),
                            *edit,
                        ]
                    ),
                ],
                justify="space-between",
                align="flex-start",
            ),
            html.Div("0", id="render-generation", style={"display": "none"}),
            dmc.Text("", c="red", id="viewer-error"),
            dmc.Tabs([tabs_list, *panels], id="viewer-tabs", value=document.tabs[0].id),
        ]
    )
