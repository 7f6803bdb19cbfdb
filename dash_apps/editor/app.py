"""The Editor app's shell: who may edit is enforced here; the design tools come with issue #7.

Until then the page shows the dashboard's structure (tabs and components) to editors and
owners, and refuses everyone else exactly as the full editor will.
"""

from __future__ import annotations

from typing import Any

import dash_mantine_components as dmc
from dash import Input, Output
from flask import Flask

from dash_apps.dashboard_access import AccessRefused, open_dashboard
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import dash_app, message_page

PREFIX = "/dashboard-edit/"


def create_editor(server: Flask, calls: ServiceCalls) -> None:
    """Mounts the Editor at /dashboard-edit/."""
    app = dash_app("editor", server, PREFIX, "Depictio · editor")

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> Any:
        dashboard_id = (pathname or "").removeprefix(PREFIX).strip("/")
        identity = current_identity()
        if identity.anonymous:
            return message_page("Sign in required", "Sign in as an editor to edit dashboards.")
        try:
            opened = open_dashboard(calls, identity, dashboard_id)
        except AccessRefused as refused:
            return message_page(refused.title, refused.message)
        if not opened.can_edit:
            return message_page(
                "No access",
                "Only the project's editors and owners may edit this dashboard.",
            )
        return dmc.Stack(
            [
                dmc.Title(opened.document.title, order=2, id="editor-title"),
                dmc.Text(
                    "Design tools (adding, arranging and configuring components) are not "
                    "available yet; this page lists the dashboard's structure.",
                    c="dimmed",
                ),
                *[
                    dmc.Stack(
                        [
                            dmc.Title(tab.title, order=4),
                            *[
                                dmc.Text(f"{component.type}: {component.title or component.id}")
                                for component in tab.components
                            ],
                        ],
                        gap=2,
                    )
                    for tab in opened.document.tabs
                ],
                dmc.Anchor("Open in the viewer", href=f"/dashboard/{dashboard_id}", refresh=True),
            ]
        )
