"""The stack `depictio up` runs, through the shared `stack` fixture: every part answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from conftest import Stack

from depictio.clients.auth import AuthClient
from depictio.rpc.channels import close_channels
from depictio.v1 import data_pb2, data_pb2_grpc, metadata_pb2, metadata_pb2_grpc

pytestmark = pytest.mark.timeout(120)


async def admin_access_token(stack: Stack) -> str:
    try:
        tokens = await AuthClient(stack.auth_addr).login(stack.admin_email, stack.admin_password)
    finally:
        await close_channels()
    return str(tokens.access_token)


async def codes_of_first_cut_calls(stack: Stack, token: str) -> dict[str, grpc.StatusCode]:
    """The status code of one unary, one server-streaming and one client-streaming call each."""
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    codes: dict[str, grpc.StatusCode] = {}

    async def chunks() -> AsyncIterator[data_pb2.WriteTableRequest]:
        yield data_pb2.WriteTableRequest()

    async with (
        grpc.aio.insecure_channel(stack.metadata_addr) as metadata_channel,
        grpc.aio.insecure_channel(stack.data_addr) as data_channel,
    ):
        projects = metadata_pb2_grpc.MetadataServiceStub(metadata_channel)
        tables = data_pb2_grpc.DataServiceStub(data_channel)
        calls = {
            "GetProject": lambda: projects.GetProject(
                metadata_pb2.GetProjectRequest(), timeout=10, metadata=metadata
            ),
            "Describe": lambda: tables.Describe(
                data_pb2.DescribeRequest(), timeout=10, metadata=metadata
            ),
            "WriteTable": lambda: tables.WriteTable(chunks(), timeout=10, metadata=metadata),
        }
        for name, call in calls.items():
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call()
            codes[name] = caught.value.code()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in tables.Scan(data_pb2.ScanRequest(), timeout=10, metadata=metadata):
                pass
        codes["Scan"] = caught.value.code()
    return codes


def test_gateway_reports_every_service_serving(stack: Stack) -> None:
    response = httpx.get(f"{stack.gateway_url}/healthz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


def test_first_cut_services_answer_unimplemented_to_a_signed_in_caller(stack: Stack) -> None:
    token = asyncio.run(admin_access_token(stack))
    codes = asyncio.run(codes_of_first_cut_calls(stack, token))
    # metadata_svc is implemented: an empty GetProject names no project.
    assert codes.pop("GetProject") == grpc.StatusCode.NOT_FOUND
    # data_svc is implemented: calls naming no data collection are refused as malformed.
    assert codes == dict.fromkeys(codes, grpc.StatusCode.INVALID_ARGUMENT)
    assert set(codes) == {"Describe", "WriteTable", "Scan"}


def test_first_cut_services_refuse_a_caller_without_a_token(stack: Stack) -> None:
    codes = asyncio.run(codes_of_first_cut_calls(stack, ""))
    assert codes == dict.fromkeys(codes, grpc.StatusCode.UNAUTHENTICATED)


def test_first_cut_services_refuse_a_forged_token(stack: Stack) -> None:
    codes = asyncio.run(codes_of_first_cut_calls(stack, "eyJhbGciOiJub25lIn0.e30."))
    assert codes == dict.fromkeys(codes, grpc.StatusCode.UNAUTHENTICATED)


def test_stack_logs_each_child(stack: Stack) -> None:
    for name in ("auth_svc", "metadata_svc", "data_svc", "gateway"):
        assert f"starting {name}" in stack.log_text(name)
    assert '"service": "metadata_svc"' in stack.log_text("metadata_svc")
