"""Opaque page tokens for offset-based list pages."""

from __future__ import annotations

import base64

from depictio.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_bounds(page_size: int, page_token: str) -> tuple[int, int]:
    """(offset, limit) for a page request; raises InvalidArgument on a bad token or size."""
    if page_size < 0:
        raise InvalidArgument(f"page_size: must be >= 0, got {page_size}")
    limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if not page_token:
        return 0, limit
    try:
        offset = int(base64.urlsafe_b64decode(page_token.encode()).decode().removeprefix("o:"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token: not a token from a previous page") from exc
    if offset < 0:
        raise InvalidArgument("page_token: not a token from a previous page")
    return offset, limit


def next_page_token(offset: int, limit: int, total: int) -> str:
    """The token of the page after [offset, offset+limit), or '' at the end."""
    following = offset + limit
    if following >= total:
        return ""
    return base64.urlsafe_b64encode(f"o:{following}".encode()).decode()
