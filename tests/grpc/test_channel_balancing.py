"""Channels spread calls over every address a target resolves to (replicas behind one name)."""

from __future__ import annotations

import asyncio
from concurrent import futures

import grpc
from conftest import free_port
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from depictio.rpc.channels import channel, close_channels


def test_calls_reach_every_replica_behind_one_target() -> None:
    servers = []
    ports = []
    for status in (
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    ):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        servicer = health.HealthServicer()
        servicer.set("replica", status)  # each replica answers differently, so calls tell
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        ports.append(server.add_insecure_port(f"127.0.0.1:{free_port()}"))
        server.start()
        servers.append(server)

    async def statuses() -> set[int]:
        # Two addresses behind one target, as DNS gives for a scaled-out service.
        target = f"ipv4:127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}"
        stub = health_pb2_grpc.HealthStub(channel(target))
        seen = set()
        for _ in range(8):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service="replica"), timeout=5)
            seen.add(reply.status)
        await close_channels([target])
        return seen

    try:
        assert asyncio.run(statuses()) == {
            health_pb2.HealthCheckResponse.SERVING,
            health_pb2.HealthCheckResponse.NOT_SERVING,
        }
    finally:
        for server in servers:
            server.stop(None)
