"""SetDashboardThumbnail and GetDashboardThumbnail against a real metadata_svc: who may store
and read a dashboard's pictures, what is refused, and that they go with the dashboard."""

from __future__ import annotations

import asyncio
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from api.metadata_api import card_document
from conftest import MakeStack
from grpc import aio
from metadata_support import metadata, new_user, run, unique_config

from depictio.mongo import MongoDatabase
from metadata_svc.dashboard_store import DashboardStore
from metadata_svc.store import ProjectStore, create_indexes
from metadata_svc.thumbnail_rpcs import ThumbnailStore

pytestmark = pytest.mark.timeout(120)

People = dict[str, tuple[str, str, str]]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A one-colour RGB PNG, written with zlib (independent of the code under test)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def grpc_stack(make_stack: MakeStack) -> Iterator[Any]:
    with make_stack() as running:
        yield running


@pytest.fixture(scope="module")
def people(grpc_stack: Any) -> People:
    return {name: new_user(grpc_stack, name) for name in ("owner", "viewer", "outsider")}


@pytest.fixture
def dashboard_id(grpc_stack: Any, people: People) -> str:
    """A private dashboard in a project of `owner`, of which `viewer` is a viewer."""

    async def create() -> str:
        client = metadata(grpc_stack, people["owner"][2])
        project = await client.create_project(unique_config("basic_single_csv.yaml"))
        user_id, email, _ = people["viewer"]
        await client.set_member(project.id, user_id, "viewer", email)
        document = json.dumps(card_document(is_public=False))
        return str((await client.create_dashboard(project.id, document)).id)

    return run(create)


def error_of(stack: Any, token: str, call: Any) -> aio.AioRpcError:
    async def attempt() -> None:
        await call(metadata(stack, token))

    with pytest.raises(aio.AioRpcError) as caught:
        run(attempt)
    return caught.value


def test_the_owner_stores_both_schemes_and_a_viewer_reads_them(
    grpc_stack: Any, people: People, dashboard_id: str
) -> None:
    light, dark = png(48, 30, (250, 250, 250)), png(48, 30, (20, 20, 30))

    async def scenario() -> tuple[Any, ...]:
        owner = metadata(grpc_stack, people["owner"][2])
        stored_light = await owner.set_dashboard_thumbnail(dashboard_id, "light", light)
        stored_dark = await owner.set_dashboard_thumbnail(dashboard_id, "dark", dark, 1)
        viewer = metadata(grpc_stack, people["viewer"][2])
        return (
            stored_light,
            stored_dark,
            await viewer.get_dashboard_thumbnail(dashboard_id, "light"),
            await viewer.get_dashboard_thumbnail(dashboard_id, "dark"),
            await viewer.get_dashboard(dashboard_id),
        )

    stored_light, stored_dark, got_light, got_dark, dashboard = run(scenario)
    assert stored_light.stored and stored_light.dashboard_version == 1
    assert stored_dark.stored and stored_dark.dashboard_version == 1
    assert got_light.png == light and got_dark.png == dark
    assert got_light.dashboard_version == got_dark.dashboard_version == 1
    assert dashboard.HasField("thumbnail_updated_at")
    assert dashboard.thumbnail_updated_at.ToDatetime() >= got_light.updated_at.ToDatetime()


def test_a_picture_of_an_older_version_does_not_replace_a_newer_one(
    grpc_stack: Any, people: People, dashboard_id: str
) -> None:
    newer, older = png(8, 8, (0, 0, 255)), png(8, 8, (255, 0, 0))

    async def scenario() -> tuple[Any, Any]:
        owner = metadata(grpc_stack, people["owner"][2])
        document = json.dumps(card_document("Second", is_public=False))
        await owner.update_dashboard(dashboard_id, document)
        await owner.set_dashboard_thumbnail(dashboard_id, "light", newer, 2)
        late = await owner.set_dashboard_thumbnail(dashboard_id, "light", older, 1)
        return late, await owner.get_dashboard_thumbnail(dashboard_id, "light")

    late, kept = run(scenario)
    assert not late.stored and late.dashboard_version == 2
    assert kept.png == newer and kept.dashboard_version == 2


def test_a_viewer_cannot_store_and_a_non_member_reads_nothing(
    grpc_stack: Any, people: People, dashboard_id: str
) -> None:
    picture = png(8, 8, (1, 2, 3))
    refused = error_of(
        grpc_stack,
        people["viewer"][2],
        lambda c: c.set_dashboard_thumbnail(dashboard_id, "light", picture),
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "editor role required" in (refused.details() or "")

    run(
        lambda: metadata(grpc_stack, people["owner"][2]).set_dashboard_thumbnail(
            dashboard_id, "light", picture
        )
    )
    for call in (
        lambda c: c.get_dashboard_thumbnail(dashboard_id, "light"),
        lambda c: c.set_dashboard_thumbnail(dashboard_id, "light", picture),
    ):
        assert error_of(grpc_stack, people["outsider"][2], call).code() == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    anonymous = error_of(grpc_stack, "", lambda c: c.get_dashboard_thumbnail(dashboard_id, "light"))
    assert anonymous.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("picture", "detail"),
    [
        (b"GIF89a" + bytes(100), "not a PNG image"),
        (b"", "png: required"),
        (b"\x89PNG\r\n\x1a\n" + bytes(600 * 1024), "at most 524,288"),
    ],
)
def test_anything_but_a_small_png_is_refused_and_nothing_is_stored(
    grpc_stack: Any, people: People, dashboard_id: str, picture: bytes, detail: str
) -> None:
    owner = people["owner"][2]
    refused = error_of(
        grpc_stack, owner, lambda c: c.set_dashboard_thumbnail(dashboard_id, "dark", picture)
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert detail in (refused.details() or "")
    missing = error_of(grpc_stack, owner, lambda c: c.get_dashboard_thumbnail(dashboard_id, "dark"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert "no dark thumbnail" in (missing.details() or "")

    async def dashboard() -> Any:
        return await metadata(grpc_stack, owner).get_dashboard(dashboard_id)

    assert not run(dashboard).HasField("thumbnail_updated_at")


def test_a_version_the_dashboard_never_had_is_refused(
    grpc_stack: Any, people: People, dashboard_id: str
) -> None:
    refused = error_of(
        grpc_stack,
        people["owner"][2],
        lambda c: c.set_dashboard_thumbnail(dashboard_id, "light", png(4, 4, (0, 0, 0)), 7),
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "dashboard_version: 7" in (refused.details() or "")


def test_thumbnails_go_with_their_dashboard_and_project(tmp_path: Path) -> None:
    database = MongoDatabase(str(tmp_path / "mongo"), "thumbnails")
    database.run_sync(create_indexes)
    dashboards, thumbnails = DashboardStore(database), ThumbnailStore(database)
    projects = ProjectStore(database)
    picture = png(4, 4, (9, 9, 9))

    async def scenario() -> list[Any]:
        first = await dashboards.create("p1", "One", False, "{}", "u")
        second = await dashboards.create("p1", "Two", False, "{}", "u")
        other = await dashboards.create("p2", "Three", False, "{}", "u")
        for dashboard in (first, second, other):
            for scheme in ("light", "dark"):
                await thumbnails.put(dashboard, scheme, picture, 1)
        await dashboards.delete(first["_id"])
        after_delete = await thumbnails.get(first["_id"], "dark")
        kept = await thumbnails.get(second["_id"], "dark")
        await projects.delete_project("p1")
        after_project = await thumbnails.get(second["_id"], "light")
        untouched = await thumbnails.get(other["_id"], "light")
        return [after_delete, kept, after_project, untouched]

    try:
        after_delete, kept, after_project, untouched = asyncio.run(scenario())
    finally:
        database.close()
    assert after_delete is None and after_project is None
    assert kept is not None and kept["png"] == picture
    assert untouched is not None and untouched["png"] == picture
