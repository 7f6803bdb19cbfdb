"""Dashboard thumbnails in the UI: asking the worker to draw them after a save, serving them
to whoever may read the dashboard, and the picture (or placeholder) the dashboards list shows.
"""

from __future__ import annotations

import logging

import grpc
from dash import html
from flask import Flask, Response
from grpc import aio
from redis.exceptions import RedisError

from dash_apps.service_calls import ServiceCalls
from dash_apps.session import current_identity
from dash_apps.shell import Scheme
from depictio.config import get_settings
from depictio.tasks.names import THUMBNAIL
from depictio.tasks.registry import TasksUnavailable
from depictio.tasks.submit import submit
from depictio.v1 import metadata_pb2 as pb

log = logging.getLogger("dash_apps.thumbnails")
ROUTE = "/thumbnails/<dashboard_id>/<any(light, dark):scheme>.png"
# The list links each picture with its time of storage (`?v=`): a new picture has a new URL,
# so a cached one may be kept a while.
CACHE_CONTROL = "private, max-age=300"
SIZE = {"width": "160px", "height": "100px"}
PLACEHOLDER_STYLE = {
    **SIZE,
    "borderRadius": "4px",
    "background": "var(--mantine-color-default-hover)",
    "border": "1px solid var(--mantine-color-default-border)",
    "objectFit": "cover",
    "display": "block",
}


def request_thumbnail(user_token: str, dashboard_id: str) -> str | None:
    """Asks the worker to draw the dashboard's thumbnails a little later (call it after a save,
    with the saver's token); saves within `thumbnail_delay_seconds` share one drawing.

    The task id, or None when no task could be queued (no Redis or worker configured, or
    Redis or auth_svc unreachable): a save never fails for want of a thumbnail.
    """
    settings = get_settings()
    try:
        return submit(
            THUMBNAIL,
            user_token=user_token,
            kwargs={"dashboard_id": dashboard_id},
            target=dashboard_id,
            countdown=settings.thumbnail_delay_seconds,
            dedupe_key=f"thumbnail:{dashboard_id}",
        )
    except TasksUnavailable:
        return None
    except (RedisError, grpc.RpcError, OSError) as exc:
        log.warning(
            "thumbnail not requested",
            extra={"dashboard_id": dashboard_id, "error": str(exc) or type(exc).__name__},
        )
        return None


def install_thumbnail_route(server: Flask, calls: ServiceCalls) -> None:
    """`GET /thumbnails/<dashboard_id>/<light|dark>.png`: the picture as the visitor may read it
    (404 when there is none, or the visitor may not read the dashboard)."""

    def thumbnail(dashboard_id: str, scheme: Scheme) -> Response:
        client = calls.metadata(current_identity().token)
        try:
            stored = calls.run(client.get_dashboard_thumbnail(dashboard_id, scheme))
        except aio.AioRpcError:
            # Refused and missing look alike: a non-member learns nothing of the dashboard.
            return Response("no thumbnail", status=404, mimetype="text/plain")
        response = Response(bytes(stored.png), mimetype="image/png")
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    server.add_url_rule(ROUTE, "dashboard_thumbnail", thumbnail)


def thumbnail_image(dashboard: pb.Dashboard, scheme: Scheme) -> html.Img | html.Div:
    """The dashboard's picture in `scheme` for the list, or a neutral placeholder when none has
    been drawn yet."""
    element_id = f"dashboard-thumbnail-{dashboard.id}"
    if not dashboard.HasField("thumbnail_updated_at"):
        return html.Div(id=element_id, className="dpt-thumbnail-empty", style=PLACEHOLDER_STYLE)
    stamp = dashboard.thumbnail_updated_at.ToMilliseconds()
    return html.Img(
        src=f"/thumbnails/{dashboard.id}/{scheme}.png?v={stamp}",
        alt="",
        id=element_id,
        className="dpt-thumbnail",
        style=PLACEHOLDER_STYLE,
    )
