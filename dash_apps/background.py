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

from celery.signals import before_task_publish
from dash import CeleryManager

from dash_apps.session import ACCESS_COOKIE
from depictio.config import Settings

# How often the browser asks whether a background callback finished.
POLL_INTERVAL_MS = 250
# How long a finished callback's result stays in Redis once read.
RESULT_EXPIRY_SECONDS = 60


class BackgroundUnavailable(RuntimeError):
    """DEPICTIO_CELERY_ENABLED is on but there is no Redis to run background callbacks on."""


BACKGROUND_TASK_PREFIX = "background_callback_"


def scrub_background_message(
    sender: str | None = None,
    body: Any = None,
    headers: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    """Keeps only the access cookie in a background callback's message (Dash sends the
    visitor's every cookie and request header, the refresh token among them), and keeps the
    arguments out of the worker's log lines."""
    if not str(sender or "").startswith(BACKGROUND_TASK_PREFIX):
        return
    args = body[0] if isinstance(body, tuple | list) and body else None
    context = args[3] if isinstance(args, tuple | list) and len(args) > 3 else None
    if isinstance(context, dict):
        cookies = context.get("cookies") or {}
        context["cookies"] = {k: v for k, v in cookies.items() if k == ACCESS_COOKIE}
        context.pop("headers", None)
    if headers is not None:
        headers["argsrepr"] = "(a background callback's arguments)"


@lru_cache(maxsize=1)
def _manager() -> CeleryManager:
    from depictio.tasks.celery_app import celery_app  # the UI needs Celery only with the flag on

    before_task_publish.connect(scrub_background_message, weak=False)

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
