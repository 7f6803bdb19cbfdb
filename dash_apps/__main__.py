"""Serves the UI: `python -m dash_apps` (started by `depictio up` on 127.0.0.1:8050)."""

from __future__ import annotations

import logging

import waitress

from dash_apps.server import create_server
from depictio.config import get_settings
from depictio.logs import configure_logging


def main() -> None:
    settings = get_settings()
    configure_logging("dash_apps", settings.log_level)
    server = create_server(settings)
    logging.getLogger("dash_apps").info(
        "UI listening on http://%s:%d", settings.ui_host, settings.ui_port
    )
    waitress.serve(
        server,
        host=settings.ui_host,
        port=settings.ui_port,
        threads=settings.ui_threads,
        ident="depictio",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
