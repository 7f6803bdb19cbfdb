"""Every service verifies the bearer token itself; RPCs not built yet answer UNIMPLEMENTED."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from grpc import aio
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from depictio.clients.auth import AuthClient
from depictio.clients.base import check_health
from depictio.rpc.channels import close_channels
from depictio.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    data_pb2,
    data_pb2_grpc,
    metadata_pb2,
    metadata_pb2_grpc,
)

pytestmark = pytest.mark.timeout(120)

Call = Callable[[aio.Channel, tuple[tuple[str, str], ...]], Awaitable[Any]]


def run(coro_factory: Callable[[], Awaitable[Any]]) -> Any:
    async def wrapper() -> Any:
        try:
            return await coro_factory()
        finally:
            await close_channels()

    return asyncio.run(wrapper())


def auth_get_me(channel: aio.Channel, md: tuple[tuple[str, str], ...]) -> Awaitable[Any]:
    return auth_pb2_grpc.AuthServiceStub(channel).GetMe(
        auth_pb2.GetMeRequest(), metadata=md, timeout=5
    )


def metadata_list_projects(channel: aio.Channel, md: tuple[tuple[str, str], ...]) -> Awaitable[Any]:
    return metadata_pb2_grpc.MetadataServiceStub(channel).ListProjects(
        metadata_pb2.ListProjectsRequest(), metadata=md, timeout=5
    )


def data_describe(channel: aio.Channel, md: tuple[tuple[str, str], ...]) -> Awaitable[Any]:
    return data_pb2_grpc.DataServiceStub(channel).Describe(
        data_pb2.DescribeRequest(data_collection_id="dc"), metadata=md, timeout=5
    )


SERVICES: list[tuple[str, str, Call, grpc.StatusCode]] = [
    ("auth_svc", "auth_addr", auth_get_me, grpc.StatusCode.OK),
    ("metadata_svc", "metadata_addr", metadata_list_projects, grpc.StatusCode.OK),
    ("data_svc", "data_addr", data_describe, grpc.StatusCode.NOT_FOUND),
]


async def status_of(target: str, call: Call, md: tuple[tuple[str, str], ...]) -> grpc.StatusCode:
    async with aio.insecure_channel(target) as channel:
        try:
            await call(channel, md)
        except aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


@pytest.fixture(scope="module")
def access_token(stack: Any) -> str:
    async def login() -> str:
        tokens = await AuthClient(stack.auth_addr).login(stack.admin_email, stack.admin_password)
        return tokens.access_token

    return str(run(login))


@pytest.mark.parametrize(("name", "addr_attr", "call", "with_token"), SERVICES)
def test_calls_without_a_valid_token_are_unauthenticated(
    stack: Any,
    access_token: str,
    name: str,
    addr_attr: str,
    call: Call,
    with_token: grpc.StatusCode,
) -> None:
    target = getattr(stack, addr_attr)
    header, payload, _ = access_token.split(".")
    cases = {
        "missing": (),
        "garbage": (("authorization", "Bearer not.a.token"),),
        "wrong scheme": (("authorization", f"Basic {access_token}"),),
        "bad signature": (("authorization", f"Bearer {header}.{payload}.AAAA"),),
    }
    for label, md in cases.items():
        code = run(lambda md=md: status_of(target, call, md))  # type: ignore[misc]
        assert code == grpc.StatusCode.UNAUTHENTICATED, f"{name}: {label} token gave {code}"
    valid = (("authorization", f"Bearer {access_token}"),)
    assert run(lambda: status_of(target, call, valid)) == with_token


def test_every_service_reports_health_and_reflection(stack: Any) -> None:
    expected = {
        "auth_addr": "depictio.v1.AuthService",
        "metadata_addr": "depictio.v1.MetadataService",
        "data_addr": "depictio.v1.DataService",
    }
    for attr, service in expected.items():
        target = getattr(stack, attr)
        assert run(lambda target=target: check_health(target)) == "SERVING"  # type: ignore[misc]

        async def list_services(target: str = target) -> list[str]:
            async with aio.insecure_channel(target) as channel:
                stub = reflection_pb2_grpc.ServerReflectionStub(channel)
                request = reflection_pb2.ServerReflectionRequest(list_services="")
                async for response in stub.ServerReflectionInfo(iter([request]), timeout=5):
                    return [s.name for s in response.list_services_response.service]
            return []

        names = run(list_services)
        assert service in names and "grpc.health.v1.Health" in names


def test_refresh_token_reuse_revokes_the_whole_family(stack: Any) -> None:
    async def scenario() -> tuple[grpc.StatusCode, grpc.StatusCode, grpc.StatusCode]:
        client = AuthClient(stack.auth_addr)
        first = await client.login(stack.admin_email, stack.admin_password)
        second = await client.refresh(first.refresh_token)
        codes = []
        for token in (first.refresh_token, second.refresh_token):
            try:
                await client.refresh(token)
                codes.append(grpc.StatusCode.OK)
            except aio.AioRpcError as exc:
                codes.append(exc.code())
        try:
            await AuthClient(stack.auth_addr, token=second.access_token).get_me()
            codes.append(grpc.StatusCode.OK)
        except aio.AioRpcError as exc:
            codes.append(exc.code())
        return codes[0], codes[1], codes[2]

    reused, newest, access = run(scenario)
    assert reused == grpc.StatusCode.UNAUTHENTICATED
    assert newest == grpc.StatusCode.UNAUTHENTICATED  # the family is gone, not just one token
    assert access == grpc.StatusCode.UNAUTHENTICATED  # auth_svc ends the session's access too


def test_other_sessions_survive_a_family_revocation(stack: Any) -> None:
    async def scenario() -> str:
        client = AuthClient(stack.auth_addr)
        victim = await client.login(stack.admin_email, stack.admin_password)
        other = await client.login(stack.admin_email, stack.admin_password)
        await client.refresh(victim.refresh_token)
        with pytest.raises(aio.AioRpcError):
            await client.refresh(victim.refresh_token)
        renewed = await client.refresh(other.refresh_token)
        return (await AuthClient(stack.auth_addr, token=renewed.access_token).get_me()).email

    assert run(scenario) == stack.admin_email
