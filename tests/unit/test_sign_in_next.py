"""Where sign-in sends the visitor next: a path of this site, never another site."""

from __future__ import annotations

import pytest

from dash_apps.session import safe_next


@pytest.mark.parametrize(
    "target",
    ["/", "/dashboard/abc123", "/projects?page=2#members", "/dashboard/a%2Fb"],
)
def test_a_path_of_this_site_is_kept(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\t/evil.example",  # browsers drop the tab: //evil.example
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\\evil.example",  # browsers read \\ as /
        "\\\\evil.example",
        "/ /evil.example",
        "javascript:alert(1)",
        "dashboard/abc",
    ],
)
def test_anything_that_could_leave_the_site_goes_home(target: str | None) -> None:
    assert safe_next(target) == "/"
