"""The Viewer app."""

from __future__ import annotations

from flask import Flask

from dash_apps.service_calls import ServiceCalls
from dash_apps.shell import dash_app


def create_viewer(server: Flask, calls: ServiceCalls) -> None:
    dash_app("viewer", server, "/dashboard/", "Depictio · dashboard")
