"""Submitting a task for a user: a task token is minted, the record written, the task sent."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from depictio.clients.auth import AuthClient
from depictio.config import Settings, get_settings
from depictio.rpc.channels import close_channels
from depictio.tasks.celery_app import celery_app
from depictio.tasks.names import TOKEN_HEADER
from depictio.tasks.registry import TaskRecord, task_registry
from depictio.v1 import auth_pb2


def mint_task_token(
    settings: Settings, user_token: str, task_name: str
) -> auth_pb2.MintTaskTokenResponse:
    """A short-lived access token for `task_name`, acting for the holder of `user_token`.

    Synchronous: it runs the RPC on an event loop of its own (call it from a thread, e.g.
    `asyncio.to_thread`, when an event loop is running).
    """

    async def mint() -> auth_pb2.MintTaskTokenResponse:
        client = AuthClient(
            settings.auth_addr, token=user_token, timeout=settings.rpc_timeout_seconds
        )
        try:
            return await client.mint_task_token(task_name)
        finally:
            await close_channels([settings.auth_addr])

    return asyncio.run(mint())


def submit(
    name: str,
    *,
    user_token: str,
    kwargs: dict[str, Any],
    target: str = "",
    countdown: float = 0,
    dedupe_key: str | None = None,
) -> str:
    """Queues task `name` with `kwargs` for the user holding `user_token`; the task id.

    The record names the user and `target`, what the task works on (a data collection id, a
    dashboard id…). The task runs `countdown` seconds from now. With `dedupe_key`, a second
    submission with the same key while the first one waits out its countdown returns the first
    one's id instead of queuing another task.

    Raises TasksUnavailable when Redis is not configured, grpc errors when auth_svc refuses
    to mint the token (e.g. the user token is itself a task token), and redis/kombu errors
    when Redis is unreachable. Synchronous: it blocks on auth_svc and Redis.
    """
    settings = get_settings()
    registry = task_registry(settings)
    task_id = uuid.uuid4().hex
    if dedupe_key is not None:
        pending = registry.claim_dedupe(dedupe_key, task_id, countdown)
        if pending is not None:
            return pending
    try:
        minted = mint_task_token(settings, user_token, name)
        registry.create(
            TaskRecord(
                id=task_id,
                name=name,
                user_id=minted.user_id,
                user_email=minted.email,
                target=target,
                submitted_at=time.time(),
            )
        )
        celery_app.send_task(
            name,
            kwargs=kwargs,
            task_id=task_id,
            countdown=countdown or None,
            headers={TOKEN_HEADER: minted.access_token},
        )
    except BaseException:
        if dedupe_key is not None:
            registry.release_dedupe(dedupe_key, task_id)
        raise
    return task_id
