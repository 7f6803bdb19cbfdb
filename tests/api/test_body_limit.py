"""Request bodies other than uploads are bounded: a larger one is a 413 before it is read,
whether its size is declared or it comes in chunks; uploads are not bounded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pyarrow as pa
import pytest

from depictio.arrow_ipc import table_to_ipc
from gateway.body_limit import MAX_BODY_BYTES

from .gateway_client import MakeStack, bearer, client_for, sign_up
from .metadata_api import PROJECTS, YAML, create_project

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def env(make_stack: MakeStack) -> Iterator[tuple[Any, httpx.Client]]:
    with make_stack() as stack, client_for(stack) as client:
        yield stack, client


def test_a_body_over_the_bound_is_413_declared_or_chunked(env: tuple[Any, httpx.Client]) -> None:
    _, client = env
    big = b"x" * (MAX_BODY_BYTES + 1)
    declared = client.post(
        "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413, declared.text
    assert "request body too large" in declared.json()["detail"]

    owner = sign_up(client, "owner")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 256 * 1024):
            yield big[start : start + 256 * 1024]

    chunked = client.post(
        PROJECTS, content=chunks(), headers={**bearer(owner.access_token), **YAML}
    )
    assert chunked.status_code == 413, chunked.text
    assert "request body too large" in chunked.json()["detail"]
    # Under the bound, the same routes answer as before.
    small = client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": owner.password}
    )
    assert small.status_code == 200, small.text


def test_uploads_are_not_bounded(env: tuple[Any, httpx.Client]) -> None:
    _, client = env
    owner = sign_up(client, "uploader")
    project = create_project(client, owner.access_token, "basic_single_csv.yaml")
    dc = project["data_collections"][0]["id"]
    rows = MAX_BODY_BYTES // 8 + 1000
    table = pa.table({"cultivar": pa.array(["c"] * rows), "n": pa.array(range(rows), pa.int64())})
    body = table_to_ipc(table)
    assert len(body) > MAX_BODY_BYTES
    written = client.post(
        f"/api/v1/datacollections/{dc}/upload",
        params={"run_id": "big"},
        content=body,
        headers={
            **bearer(owner.access_token),
            "content-type": "application/vnd.apache.arrow.stream",
        },
    )
    assert written.status_code == 200, written.text
    assert written.json()["rows"] == rows
