"""Page tokens walk a list without gaps or repeats and refuse forged input."""

from __future__ import annotations

import pytest

from depictio.errors import InvalidArgument
from depictio.pagination import MAX_PAGE_SIZE, next_page_token, page_bounds


def test_pages_cover_every_item_once() -> None:
    items = list(range(23))
    seen: list[int] = []
    token = ""
    while True:
        offset, limit = page_bounds(5, token)
        seen.extend(items[offset : offset + limit])
        token = next_page_token(offset, limit, len(items))
        if not token:
            break
    assert seen == items


def test_page_size_defaults_and_caps() -> None:
    assert page_bounds(0, "") == (0, 50)
    assert page_bounds(10_000, "") == (0, MAX_PAGE_SIZE)


@pytest.mark.parametrize("token", ["%%%", "bm9wZQ==", "bzotNQ=="])
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidArgument, match="page_token"):
        page_bounds(5, token)


def test_negative_page_size_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="page_size"):
        page_bounds(-1, "")
