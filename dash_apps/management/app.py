"""The Management app: routes `/…` paths to their pages."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State
from flask import Flask

from dash_apps.management.sign_in import register_page, sign_in_page
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import dash_app, message_page


def create_management(server: Flask, calls: ServiceCalls) -> None:
    """Mounts the Management app at /."""
    app = dash_app("management", server, "/", "Depictio")
    settings = calls.settings

    @app.callback(Output("page", "children"), Input("url", "pathname"), State("url", "search"))
    def route(pathname: str | None, search: str | None) -> Any:
        path = (pathname or "/").rstrip("/") or "/"
        if path == "/login":
            return sign_in_page(search, settings.auth_registration)
        if path == "/register":
            return register_page(search, settings.auth_registration)
        identity = current_identity()
        if identity.anonymous:
            return sign_in_page(f"?next={path}", settings.auth_registration)
        return message_page("Not found", f"There is no page at {path}.")
