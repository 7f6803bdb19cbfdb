"""The UI's background callbacks as tasks of this worker (DEPICTIO_CELERY_ENABLED).

Dash names each background callback's task after its function's source and outputs; building
the UI's apps here registers the same tasks the UI sends, under the same names.
"""

from __future__ import annotations

from dash_apps.server import create_server
from depictio.config import get_settings

server = create_server(get_settings())
