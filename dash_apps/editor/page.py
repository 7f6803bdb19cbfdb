"""The Editor page: the stores, the header (save, history, YAML), title and notes, the tab and
section tools, the canvas and the modals.

State: `editor-document` holds the DashboardDocument JSON being edited (one client-side
store, as the Viewer keeps its filters); `editor-saved` the last stored version and its
document (the unsaved-changes badge compares the two in the browser); `editor-meta` the
dashboard, its project and the project's data collections with their column types.
"""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import dcc, html

from dash_apps.editor.stepper import stepper_modal


def tools(document: dict[str, Any]) -> Any:
    """The tab and filter-section tools (acting on the active tab)."""
    return dmc.Group(
        [
            dmc.TextInput(id="tab-title-input", placeholder="Tab title", size="xs"),
            dmc.Button("Rename tab", id="tab-rename", size="xs", variant="light"),
            dmc.Button("Add tab", id="tab-add", size="xs", variant="light"),
            dmc.Button("◀ Move left", id="tab-left", size="xs", variant="default"),
            dmc.Button("Move right ▶", id="tab-right", size="xs", variant="default"),
            dmc.Button(
                "Delete tab",
                id="tab-delete",
                size="xs",
                color="red",
                variant="light",
                disabled=len(document["tabs"]) <= 1,
            ),
            dmc.Divider(orientation="vertical"),
            dmc.TextInput(id="section-new-title", placeholder="Section title", size="xs"),
            dmc.Button("Add filter section", id="section-add", size="xs", variant="light"),
        ],
        gap="xs",
    )


def editor_page(
    dashboard_id: str,
    project_id: str,
    version: int,
    document: dict[str, Any],
    sources: list[dict[str, Any]],
    canvas: Any,
) -> Any:
    """The whole Editor page of one dashboard."""
    header = dmc.Group(
        [
            dmc.Stack(
                [
                    dmc.Title(document["title"], order=2, id="editor-title"),
                    dmc.Group(
                        [
                            dmc.Badge("Saved", color="green", id="editor-dirty"),
                            dmc.Text(f"version {version}", size="sm", id="editor-version"),
                        ],
                        gap="xs",
                    ),
                ],
                gap=2,
            ),
            dmc.Group(
                [
                    dmc.Button("Add component", id="add-component"),
                    dmc.Button("Save", id="editor-save", color="green"),
                    dmc.Button("History", id="history-open", variant="light"),
                    dmc.Button("Export YAML", id="editor-export", variant="light"),
                    dcc.Upload(
                        dmc.Button("Import YAML", variant="light"),
                        id="editor-import",
                        accept=".yaml,.yml,text/yaml",
                    ),
                    dmc.Anchor(
                        dmc.Button("Open in the viewer", variant="outline"),
                        href=f"/dashboard/{dashboard_id}",
                        refresh=True,
                        id="editor-open-viewer",
                    ),
                ],
                gap="xs",
            ),
        ],
        justify="space-between",
        align="flex-start",
    )
    return html.Div(
        [
            dcc.Store(id="editor-document", data=document),
            dcc.Store(id="editor-saved", data={"version": version, "document": document}),
            dcc.Store(
                id="editor-meta",
                data={"dashboard_id": dashboard_id, "project_id": project_id, "sources": sources},
            ),
            dcc.Store(id="filter-state", data={"controls": {}, "selections": {}, "generation": 0}),
            dcc.Store(id="canvas-request", data={"revision": 0, "tab": None}),
            dcc.Store(id="stepper-target"),
            dcc.Store(id="stepper-component"),
            dcc.Download(id="editor-download"),
            dmc.Stack(
                [
                    header,
                    html.Div(id="editor-message"),
                    html.Div(id="import-result"),
                    dmc.Group(
                        [
                            dmc.TextInput(
                                id="editor-title-input",
                                label="Title",
                                value=document["title"],
                                style={"minWidth": "320px"},
                            ),
                            dmc.Textarea(
                                id="editor-description",
                                label="Notes",
                                value=document.get("description", ""),
                                autosize=True,
                                style={"flex": 1},
                            ),
                        ],
                        align="flex-start",
                    ),
                    tools(document),
                    html.Div(canvas, id="editor-canvas"),
                ],
                gap="sm",
            ),
            stepper_modal(sources),
            dmc.Modal(html.Div(id="history-list"), id="history-modal", title="Versions", size="lg"),
        ]
    )
