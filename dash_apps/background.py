"""Where the UI's slow callbacks run: as Dash background callbacks on the Celery worker when
DEPICTIO_CELERY_ENABLED is on, else in the UI's own request threads.

The worker imports the UI (worker/ui_callbacks.py) so that each background callback is a task
it knows; the callback finds the visitor in the cookies its context carries
(dash_apps/session.py) and acts with a token minted for the task.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from dash import CeleryManager

from depictio.config import Settings

# How often the browser asks whether a background callback finished.
POLL_INTERVAL_MS = 250
# How long a finished callback's result stays in Redis once read.
RESULT_EXPIRY_SECONDS = 60


class BackgroundUnavailable(RuntimeError):
    """DEPICTIO_CELERY_ENABLED is on but there is no Redis to run background callbacks on."""


@lru_cache(maxsize=1)
def _manager() -> CeleryManager:
    from depictio.tasks.celery_app import celery_app  # the UI needs Celery only with the flag on

    # Dash keys a job's result by the callback's arguments alone: two visitors sending the
    # same arguments would share one result. A fresh nonce per request keys each job apart
    # (the browser then polls with the key it was handed, which Dash signs).
    return CeleryManager(
        celery_app, cache_by=[lambda: uuid.uuid4().hex], expire=RESULT_EXPIRY_SECONDS
    )


def background_options(settings: Settings) -> dict[str, Any]:
    """The `app.callback` options that make a callback run on the worker ({} with the flag
    off)."""
    if not settings.celery_enabled:
        return {}
    if not settings.redis_url:
        raise BackgroundUnavailable(
            "DEPICTIO_CELERY_ENABLED is on but DEPICTIO_REDIS_URL is empty: background "
            "callbacks need Redis and a worker (`depictio up` starts both)"
        )
    return {"background": True, "manager": _manager(), "interval": POLL_INTERVAL_MS}
