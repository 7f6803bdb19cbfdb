"""The API token form: an empty expiry means never; an entered one must be 1 to the most."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from dash_apps.management.tokens import MAX_EXPIRY_DAYS, _create
from depictio.tokens import Identity


class RecordingCalls:
    """Stands in for auth_svc (not what is tested): records each token asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def auth(self, token: str) -> Any:
        async def create_api_token(name: str, days: int) -> Any:
            self.asked.append((name, days))
            return SimpleNamespace(token=SimpleNamespace(name=name), secret="dpt_x")

        return SimpleNamespace(create_api_token=create_api_token)

    def run(self, awaitable: Any) -> Any:
        return asyncio.run(awaitable)


IDENTITY = Identity(user_id="u1", email="u1@example.org", is_admin=False, token="t")


@pytest.mark.parametrize(("entered", "sent"), [(None, 0), ("", 0), (30, 30), (1, 1)])
def test_accepted_expiries(entered: Any, sent: int) -> None:
    calls = RecordingCalls()
    feedback, _ = _create(calls, IDENTITY, "ci", entered)  # type: ignore[arg-type]
    assert calls.asked == [("ci", sent)]
    assert feedback.color == "green"


@pytest.mark.parametrize("entered", [0, -1, 2.5, MAX_EXPIRY_DAYS + 1])
def test_refused_expiries_ask_for_nothing(entered: Any) -> None:
    calls = RecordingCalls()
    feedback, secret = _create(calls, IDENTITY, "ci", entered)  # type: ignore[arg-type]
    assert calls.asked == [] and secret == []
    assert feedback.children.startswith(f"Expiry must be 1 to {MAX_EXPIRY_DAYS} days")
