"""Dashboard thumbnails drawn by the worker's renderer from the running UI: the iris demo in
light and dark, stored in metadata_svc, served by the UI to members only."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx
import pytest
from conftest import settings_from_env

from worker.tasks.thumbnails import current_version, store_thumbnails
from worker.thumbnails import ThumbnailError, render_thumbnails

from .accounts import access_token
from .browser import ARTIFACTS
from .conftest import People, UiStack

pytestmark = pytest.mark.timeout(180)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type → samples per pixel


def png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, samples per pixel, rows) of an 8-bit non-interlaced PNG, decoded with
    zlib and the five PNG row filters (independent of the code under test)."""
    assert data.startswith(PNG_SIGNATURE), data[:8]
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and colour in CHANNELS, (depth, colour, interlace)
    step = CHANNELS[colour]
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - step] if x >= step else 0
            up = previous[x]
            corner = previous[x - step] if x >= step else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + nearest) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, step, rows


def mean_brightness(data: bytes) -> float:
    """The mean of the colour samples (alpha left out), 0..255."""
    width, height, step, rows = png_pixels(data)
    colours = 1 if step <= 2 else 3
    samples = range(0, width * step, step)
    total = sum(row[x + c] for row in rows for x in samples for c in range(colours))
    return total / (width * height * colours)


def draw_and_store(stack: UiStack, token: str, dashboard_id: str) -> dict[str, Any]:
    """What the thumbnail task does: draw the current version in both schemes, store both."""
    settings = settings_from_env(stack.stack.env)
    version = current_version(settings, token, dashboard_id)
    pictures = render_thumbnails(stack.ui_url, dashboard_id, token)
    kept = store_thumbnails(settings, token, dashboard_id, pictures, version)
    return {"pictures": pictures, "kept": kept, "version": version}


def served(stack: UiStack, dashboard_id: str, scheme: str, token: str | None) -> httpx.Response:
    """The UI's answer to a visitor with `token` as session cookie (None: no session)."""
    cookies = {"depictio_access": token} if token is not None else {}
    with httpx.Client(base_url=stack.ui_url, timeout=30.0, cookies=cookies) as ui:
        return ui.get(f"/thumbnails/{dashboard_id}/{scheme}.png")


@pytest.fixture(scope="module")
def drawn(ui_stack: UiStack, people: People, gateway: httpx.Client) -> dict[str, Any]:
    """The iris dashboard drawn and stored as its editor (whom a thumbnail task acts for after
    the editor's save)."""
    token = access_token(gateway, people.editor.email, people.editor.password)
    return draw_and_store(ui_stack, token, ui_stack.iris.dashboard_id)


def test_the_iris_dashboard_is_drawn_light_and_dark(drawn: dict[str, Any]) -> None:
    light, dark = drawn["pictures"]["light"], drawn["pictures"]["dark"]
    ARTIFACTS.mkdir(exist_ok=True)
    for scheme, picture in drawn["pictures"].items():
        (ARTIFACTS / f"thumbnail-iris-{scheme}.png").write_bytes(picture)
    for picture in (light, dark):
        width, height, _, _ = png_pixels(picture)
        assert (width, height) == (480, 300)
        assert len(picture) > 5_000  # a drawn page, not a blank one
    assert drawn["kept"] == {"light": True, "dark": True}
    light_mean, dark_mean = mean_brightness(light), mean_brightness(dark)
    assert light_mean > 180, light_mean
    assert dark_mean < light_mean - 80, (dark_mean, light_mean)


def test_the_ui_serves_the_thumbnail_to_readers(
    drawn: dict[str, Any], ui_stack: UiStack, people: People, gateway: httpx.Client
) -> None:
    dashboard_id = ui_stack.iris.dashboard_id
    viewer = access_token(gateway, people.viewer.email, people.viewer.password)
    for scheme in ("light", "dark"):
        answer = served(ui_stack, dashboard_id, scheme, viewer)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["cache-control"].startswith("private")
        assert answer.content == drawn["pictures"][scheme]
    assert served(ui_stack, dashboard_id, "light", None).status_code == 404
    # Only light and dark are thumbnails (any other path is the UI's pages).
    assert served(ui_stack, dashboard_id, "sepia", viewer).headers["content-type"] != "image/png"


def test_a_private_dashboard_s_thumbnail_is_served_to_members_only(
    ui_stack: UiStack,
    people: People,
    gateway: httpx.Client,
    admin_token: str,
    private_dashboard: str,
) -> None:
    stored = draw_and_store(ui_stack, admin_token, private_dashboard)
    assert stored["kept"] == {"light": True, "dark": True}
    answer = served(ui_stack, private_dashboard, "dark", admin_token)
    assert answer.status_code == 200 and answer.content == stored["pictures"]["dark"]
    for person in (people.viewer, people.outsider):
        token = access_token(gateway, person.email, person.password)
        refused = served(ui_stack, private_dashboard, "dark", token)
        assert refused.status_code == 404 and refused.headers["content-type"] != "image/png"
        with pytest.raises(ThumbnailError, match="No access"):
            render_thumbnails(ui_stack.ui_url, private_dashboard, token, ("light",))
