"""An unexpected exception becomes a 500 naming the request id, and is logged without its text.

No route of the gateway fails on purpose, so this runs the real app in-process with one extra
route that raises; no service is involved.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from depictio.config import Settings
from depictio.logs import JsonFormatter
from gateway.app import create_app

pytestmark = pytest.mark.timeout(60)

SECRET = "pw-in-an-exception-message"


async def fail() -> None:
    raise RuntimeError(f"cannot use password {SECRET}")


def test_unexpected_error_is_a_500_with_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings())
    app.add_api_route("/fail", fail)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get("/fail", headers={"X-Request-ID": "req-failing-1"})

    with caplog.at_level(logging.INFO):
        response = asyncio.run(call())

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error (request id req-failing-1)"}
    assert response.headers["X-Request-ID"] == "req-failing-1"
    lines = [JsonFormatter("gateway").format(record) for record in caplog.records]
    assert any("RuntimeError" in line and "req-failing-1" in line for line in lines)
    assert not any(SECRET in line for line in lines)
