"""What the page tells the server about the visitor's screen (cookies set by its first
script), and the figure config that follows from it."""

from __future__ import annotations

import pytest
from flask import Flask

from dash_apps.shell import (
    PIXEL_RATIO_COOKIE,
    VIEWPORT_COOKIE,
    device_pixel_ratio,
    viewport_height,
)
from dash_apps.viewer.figures import graph_config


def with_cookie(name: str, value: str | None) -> dict[str, str]:
    return {} if value is None else {"Cookie": f"{name}={value}"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1.0),
        ("2", 2.0),
        ("1.25", 1.25),
        ("4", 4.0),
        ("0.5", None),
        ("5", None),
        ("nan", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_pixel_ratio_is_read_within_plotlys_range(raw: str | None, expected: float | None) -> None:
    app = Flask(__name__)
    with app.test_request_context(headers=with_cookie(PIXEL_RATIO_COOKIE, raw)):
        assert device_pixel_ratio() == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("900", 900),
        ("100", 100),
        ("20000", 20000),
        ("99", None),
        ("20001", None),
        ("-5", None),
        ("9e2", None),
        (None, None),
    ],
)
def test_window_height_is_read_when_a_window_could_have_it(
    raw: str | None, expected: int | None
) -> None:
    app = Flask(__name__)
    with app.test_request_context(headers=with_cookie(VIEWPORT_COOKIE, raw)):
        assert viewport_height() == expected


def test_figures_draw_webgl_at_the_screens_ratio_else_plotlys_default() -> None:
    assert graph_config(1.0)["plotGlPixelRatio"] == 1.0
    assert graph_config(2.0)["plotGlPixelRatio"] == 2.0
    # Without a ratio, Plotly's own default applies (the key is left out).
    assert "plotGlPixelRatio" not in graph_config(None)
    assert graph_config(None)["displaylogo"] is False
