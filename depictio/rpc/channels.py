"""Client channels: one per target per process (and event loop), with keepalive and retries.

Retries happen only on UNAVAILABLE and only for the idempotent methods listed here; every call
made through depictio.clients carries a deadline.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable

import grpc
import grpc.experimental
from grpc import aio

from depictio.rpc.server import MAX_MESSAGE_BYTES

# Methods safe to repeat: reads, and writes whose repetition has the same effect.
IDEMPOTENT_METHODS: dict[str, tuple[str, ...]] = {
    "grpc.health.v1.Health": ("Check",),
    "depictio.v1.AuthService": (
        "GetMe",
        "GetJwks",
        "ListApiTokens",
        "RevokeApiToken",
        "ListUsers",
        "GetUser",
        "UpdateUser",
        "StartLocalSession",
        "LookupUser",
    ),
    "depictio.v1.MetadataService": (
        "GetProject",
        "ListProjects",
        "ListMembers",
        "CheckAccess",
        "RecordTableSchema",
        "ListRuns",
        "ListFiles",
        "GetDashboard",
        "ListDashboards",
        "ListDashboardVersions",
        "GetDashboardVersion",
        "ExportDashboardYaml",
        "SyncProject",
    ),
    "depictio.v1.DataService": ("Scan", "Describe", "History", "Query"),
}


def service_config(idempotent: dict[str, tuple[str, ...]]) -> str:
    """A gRPC service config: round robin over every address, UNAVAILABLE retried."""
    names = [
        {"service": service, "method": method}
        for service, methods in idempotent.items()
        for method in methods
    ]
    return json.dumps(
        {
            # Every address the name resolves to is used: replicas behind one DNS name (a
            # compose service scaled out, a headless Kubernetes Service) share the calls.
            "loadBalancingConfig": [{"round_robin": {}}],
            "methodConfig": [
                {
                    "name": names,
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "1s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ],
        }
    )


CHANNEL_OPTIONS: list[tuple[str, int | str]] = [
    ("grpc.enable_retries", 1),
    ("grpc.service_config", service_config(IDEMPOTENT_METHODS)),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]

_channels: dict[tuple[str, int], aio.Channel] = {}


def channel(target: str) -> aio.Channel:
    """The process's channel to `target` on the running event loop (created on first use)."""
    key = (target, id(asyncio.get_running_loop()))
    existing = _channels.get(key)
    if existing is None:
        existing = aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        _channels[key] = existing
    return existing


# A blocking channel's streams are received on the calling thread itself, rather than handed
# over, message by message, from a thread of the channel's (a fifth less CPU for a Scan's
# 366 MB here).
BLOCKING_CHANNEL_OPTIONS: list[tuple[str, int | str]] = [
    *CHANNEL_OPTIONS,
    (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream, 1),
]

_blocking_channels: dict[str, grpc.Channel] = {}
_blocking_guard = threading.Lock()


def blocking_channel(target: str) -> grpc.Channel:
    """The process's blocking channel to `target` (created on first use; thread-safe).

    For calls run whole in a worker thread: receiving a long stream there costs less than in
    an event loop, which wakes for every message.
    """
    with _blocking_guard:
        existing = _blocking_channels.get(target)
        if existing is None:
            existing = grpc.insecure_channel(target, options=BLOCKING_CHANNEL_OPTIONS)
            _blocking_channels[target] = existing
        return existing


async def close_channels(targets: Iterable[str] | None = None) -> None:
    """Closes the channels of the running loop (to the given targets, or all)."""
    loop_id = id(asyncio.get_running_loop())
    for key in list(_channels):
        if key[1] == loop_id and (targets is None or key[0] in targets):
            await _channels.pop(key).close()
