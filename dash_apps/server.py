"""The dispatcher: one Flask server, three Dash apps each with its own callback registry.

Management at `/`, Viewer at `/dashboard/<id>`, Editor at `/dashboard-edit/<id>`.
"""

from __future__ import annotations

from flask import Flask

from dash_apps.background import signing_secret
from dash_apps.editor.app import create_editor
from dash_apps.management.app import create_management
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import SessionCookies
from dash_apps.thumbnails import install_thumbnail_route
from dash_apps.viewer.app import create_viewer
from depictio.config import Settings, get_settings


def create_server(settings: Settings | None = None) -> Flask:
    """The UI's Flask server with the session hooks and the three apps mounted."""
    settings = settings or get_settings()
    server = Flask("dash_apps")
    server.secret_key = signing_secret(settings)
    server.config["DEPICTIO_SETTINGS"] = settings
    calls = ServiceCalls(settings)
    SessionCookies(calls, settings).install(server)
    server.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    install_thumbnail_route(server, calls)
    create_management(server, calls)
    create_viewer(server, calls)
    create_editor(server, calls)
    return server
