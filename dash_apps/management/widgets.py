"""Pieces every Management page is built from: tables, times, role labels and feedback alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_mantine_components as dmc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from dash_apps.session import rpc_message
from depictio.clients.metadata import role_name
from depictio.tokens import Identity
from depictio.v1 import common_pb2

NEVER = "—"


def when(timestamp: Timestamp) -> str:
    """A stored time for a person ('—' when unset), in UTC to the minute."""
    if timestamp.seconds == 0 and timestamp.nanos == 0:
        return NEVER
    return timestamp.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")


def role_label(role: int, identity: Identity) -> str:
    """The caller's role in a project as shown: the role, 'admin' without one, else '—'."""
    name = role_name(role)
    if name:
        return name
    return "admin" if identity.is_admin else NEVER


def may_edit(role: int, identity: Identity) -> bool:
    """Whether the caller may change a project's dashboards (editors, owners, admins)."""
    return not identity.anonymous and (identity.is_admin or role >= common_pb2.ROLE_EDITOR)


def may_manage(role: int, identity: Identity) -> bool:
    """Whether the caller may manage a project's members and visibility (owners, admins)."""
    return not identity.anonymous and (identity.is_admin or role >= common_pb2.ROLE_OWNER)


def public_badge(is_public: bool, badge_id: str | None = None) -> dmc.Badge:
    """'public' in green or 'private' in grey."""
    extra = {"id": badge_id} if badge_id else {}
    if is_public:
        return dmc.Badge("public", color="green", variant="light", **extra)
    return dmc.Badge("private", color="gray", variant="light", **extra)


def table(
    headers: Sequence[str], rows: Sequence[dmc.TableTr], table_id: str, empty: str
) -> dmc.Table | dmc.Text:
    """A striped table with a header row, or `empty` when there are no rows."""
    if not rows:
        return dmc.Text(empty, c="dimmed", id=table_id)
    return dmc.Table(
        [
            dmc.TableThead(dmc.TableTr([dmc.TableTh(header) for header in headers])),
            dmc.TableTbody(list(rows)),
        ],
        id=table_id,
        striped=True,
        highlightOnHover=True,
        withTableBorder=True,
    )


def row(cells: Sequence[Any], row_id: str) -> dmc.TableTr:
    """A table row of cells (texts or components)."""
    return dmc.TableTr([dmc.TableTd(cell) for cell in cells], id=row_id)


def done(message: str, alert_id: str) -> dmc.Alert:
    """A green alert saying what was done."""
    return dmc.Alert(message, color="green", id=alert_id, withCloseButton=True)


def refused(message: str, alert_id: str) -> dmc.Alert:
    """A red alert saying what was refused, and why."""
    return dmc.Alert(message, title="Refused", color="red", id=alert_id, withCloseButton=True)


def refused_call(exc: aio.AioRpcError, alert_id: str) -> dmc.Alert:
    """A red alert with the server's own message for a refused call."""
    return refused(rpc_message(exc), alert_id)
