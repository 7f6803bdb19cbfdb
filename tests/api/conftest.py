"""Fixtures of the API tests: an HTTP client of the shared stack and fresh users."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .gateway_client import Account, StackLike, client_for, sign_up


@pytest.fixture
def api(stack: StackLike) -> Iterator[httpx.Client]:
    """An HTTP client of the shared stack's gateway."""
    with client_for(stack) as client:
        yield client


@pytest.fixture
def user(api: httpx.Client) -> Account:
    """A fresh, signed-in, non-admin user of the shared stack."""
    return sign_up(api)
