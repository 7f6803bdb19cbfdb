"""The Management app: routes `/…` paths to their pages and registers the pages' callbacks."""

from __future__ import annotations

import re
from typing import Any

import grpc
from dash import Input, Output, State
from flask import Flask
from grpc import aio

from dash_apps.management.admin import admin_page, register_admin
from dash_apps.management.dashboard_actions import register_dashboard_actions
from dash_apps.management.dashboards import dashboards_page, fetch_listing
from dash_apps.management.project_access import register_project_access
from dash_apps.management.project_detail import project_page
from dash_apps.management.projects import projects_page
from dash_apps.management.sign_in import register_page, sign_in_page
from dash_apps.management.tasks import register_tasks
from dash_apps.management.tokens import register_tokens, tokens_page
from dash_apps.management.widgets import refused_call
from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import PUBLIC_PAGES, dash_app, message_page
from depictio.config import AuthMode
from depictio.tokens import Identity

PROJECT_PATH = re.compile(r"^/projects/([A-Za-z0-9_-]{1,64})$")
# In public mode these refusals of an anonymous listing mean "sign in first".
SIGN_IN_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def _dashboards(calls: ServiceCalls, identity: Identity) -> Any | None:
    """The dashboards page; None when the server wants an anonymous visitor to sign in."""
    try:
        listing = fetch_listing(calls, identity)
    except aio.AioRpcError as exc:
        if identity.anonymous and exc.code() in SIGN_IN_CODES:
            return None
        return refused_call(exc, "dashboards-error")
    return dashboards_page(listing, identity)


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

        def to_sign_in() -> Any:
            return sign_in_page(f"?next={path}", settings.auth_registration)

        readable = path in PUBLIC_PAGES or PROJECT_PATH.match(path) is not None
        if identity.anonymous and not (readable and settings.auth_mode is AuthMode.PUBLIC):
            return to_sign_in()
        if path in ("/", "/projects"):
            return projects_page(calls, identity)
        if match := PROJECT_PATH.match(path):
            return project_page(calls, identity, match.group(1))
        if path == "/dashboards":
            page = _dashboards(calls, identity)
            return page if page is not None else to_sign_in()
        if path == "/tokens":
            return tokens_page(calls, identity)
        if path == "/admin":
            return admin_page(calls, identity)
        return message_page("Not found", f"There is no page at {path}.")

    register_project_access(app, calls)
    register_dashboard_actions(app, calls)
    register_tokens(app, calls)
    register_admin(app, calls)
    register_tasks(app, calls)
