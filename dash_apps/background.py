"""Where the UI's slow callbacks run: as Dash background callbacks on the Celery worker when
DEPICTIO_CELERY_ENABLED is on, else in the UI's own request threads.

The worker imports the UI (worker/ui_callbacks.py) so that each background callback is a task
it knows; the callback finds the visitor in the cookies its context carries
(dash_apps/session.py) and acts with a token minted for the task.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
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
RUNNING_STATES = ("PENDING", "RECEIVED", "STARTED", "RETRY", "PROGRESS")
# How long after a job succeeded its result is still waited for (it is written before then).
SUCCEEDED_GRACE_SECONDS = 30.0


class WorkerCallbacks(CeleryManager):
    """Dash's Celery manager without its lost-result race.

    On each poll Dash reads the job's result, then asks whether the job still runs, and takes a
    job that is neither running nor has a result for cancelled. A job that finishes between
    the two reads (likely on a busy machine) would so lose its result. A job that succeeded
    wrote its result before it finished, so it counts as running until the next poll reads it.
    """

    def job_running(self, job: Any) -> bool:
        task = self.get_task(job)
        if task is None:
            return False
        status = task.status
        if status in RUNNING_STATES:
            return True
        if status != "SUCCESS":
            return False
        done = task.date_done
        if isinstance(done, str):
            done = datetime.fromisoformat(done)
        if done is None:
            return False
        if done.tzinfo is None:
            done = done.replace(tzinfo=UTC)
        return (datetime.now(UTC) - done).total_seconds() < SUCCEEDED_GRACE_SECONDS


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
def _manager() -> WorkerCallbacks:
    from depictio.tasks.celery_app import celery_app  # the UI needs Celery only with the flag on

    before_task_publish.connect(scrub_background_message, weak=False)

    # Dash keys a job's result by the callback's arguments alone: two visitors sending the
    # same arguments would share one result. A fresh nonce per request keys each job apart
    # (the browser then polls with the key it was handed, which Dash signs).
    return WorkerCallbacks(
        celery_app, cache_by=[lambda: uuid.uuid4().hex], expire=RESULT_EXPIRY_SECONDS
    )


def signing_secret(settings: Settings) -> str:
    """The secret Dash signs background-callback handles with, for the UI's Flask server.

    Dash signs a handle with the secret of whichever of the server's apps it takes for the
    current one — which, with three apps on one server, need not be the app that signed it. A
    server-wide secret (Flask's `secret_key`, which Dash prefers) makes them all agree; with
    background callbacks on it lives in Redis, so every UI replica agrees too.
    """
    if not settings.celery_enabled:
        return secrets.token_urlsafe(48)
    stored = _manager().get_or_create_signing_secret(lambda: secrets.token_urlsafe(48))
    return stored.decode() if isinstance(stored, bytes) else str(stored)


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
