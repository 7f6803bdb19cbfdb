"""Fixtures of the worker tests: a stack on a redis-server of the module's own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import MakeStack, Stack
from task_support import private_redis


@pytest.fixture(scope="module")
def task_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for the module's broker, results and task records."""
    with private_redis(tmp_path_factory.mktemp("task-redis")) as url:
        yield url


@pytest.fixture(scope="module")
def task_stack(make_stack: MakeStack, task_redis: str) -> Iterator[Stack]:
    """The services and gateway on that Redis (workers are started by each test)."""
    with make_stack(DEPICTIO_REDIS_URL=task_redis) as running:
        yield running


@pytest.fixture(scope="module")
def gateway(task_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=task_stack.gateway_url, timeout=60) as client:
        yield client
