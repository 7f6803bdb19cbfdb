"""`depictio.thumbnail`: draws a dashboard in light and dark and stores both pictures.

Submitted after a save with a countdown and a dedupe key (dash_apps/thumbnails.py), so a burst
of saves is drawn once, at its end. It draws the version current when it runs and stores the
pictures with that version: a late drawing never replaces a newer one. Idempotent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from depictio.cli.supervisor import ui_url
from depictio.clients.metadata import MetadataClient
from depictio.config import Settings
from depictio.rpc.channels import close_channels
from depictio.tasks.celery_app import celery_app
from depictio.tasks.names import THUMBNAIL
from worker.task_base import DepictioTask
from worker.thumbnails import Scheme, render_thumbnails


def worker_ui_url(settings: Settings) -> str:
    """Where the worker reaches the UI: DEPICTIO_UI_URL, else the UI `depictio up` starts."""
    return settings.ui_url or ui_url(settings)


def _metadata(settings: Settings, token: str) -> MetadataClient:
    return MetadataClient(settings.metadata_addr, token=token, timeout=settings.rpc_timeout_seconds)


def current_version(settings: Settings, token: str, dashboard_id: str) -> int:
    """The dashboard's current version (also: the task's user may still read it)."""

    async def version() -> int:
        try:
            return int((await _metadata(settings, token).get_dashboard(dashboard_id)).version)
        finally:
            await close_channels([settings.metadata_addr])

    return asyncio.run(version())


def store_thumbnails(
    settings: Settings, token: str, dashboard_id: str, pictures: dict[Scheme, bytes], version: int
) -> dict[str, bool]:
    """Stores each scheme's picture of `version`; whether each one was kept."""

    async def store() -> dict[str, bool]:
        client = _metadata(settings, token)
        try:
            kept: dict[str, bool] = {}
            for scheme, png in pictures.items():
                answer = await client.set_dashboard_thumbnail(dashboard_id, scheme, png, version)
                kept[scheme] = bool(answer.stored)
            return kept
        finally:
            await close_channels([settings.metadata_addr])

    return asyncio.run(store())


@celery_app.task(base=DepictioTask, bind=True, name=THUMBNAIL)
def thumbnail(self: DepictioTask, dashboard_id: str) -> dict[str, Any]:
    """Draws the dashboard as its user sees it, in both schemes, and stores the pictures."""
    settings, token = self.settings, self.task_token
    version = current_version(settings, token, dashboard_id)
    self.progress(0.1, f"drawing version {version} in light and dark")
    pictures = render_thumbnails(worker_ui_url(settings), dashboard_id, token)
    self.progress(0.8, "storing the pictures")
    kept = store_thumbnails(settings, token, dashboard_id, pictures, version)
    return {
        "dashboard_id": dashboard_id,
        "dashboard_version": version,
        "stored": kept,
        "bytes": {scheme: len(png) for scheme, png in pictures.items()},
    }
