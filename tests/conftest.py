"""Shared fixtures: free ports and whole Depictio stacks run by the `depictio up` supervisor."""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from depictio.cli.supervisor import ProcessGroup, default_children, gateway_url
from depictio.config import Settings

_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, never the same twice in one test session."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass
class Stack:
    """A running set of auth_svc, metadata_svc, data_svc and gateway processes."""

    gateway_url: str
    auth_addr: str
    metadata_addr: str
    data_addr: str
    data_dir: Path
    admin_email: str
    admin_password: str
    env: dict[str, str]
    group: ProcessGroup

    def log_text(self, name: str) -> str:
        """Everything one child (auth_svc, metadata_svc, data_svc, gateway) has logged."""
        return self.group.log_text(name)


MakeStack = Callable[..., AbstractContextManager[Stack]]


def stack_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a stack on fresh free ports; `overrides` are DEPICTIO_* values."""
    env = dict(os.environ)
    env.update(
        {
            "DEPICTIO_DATA_DIR": str(data_dir),
            "DEPICTIO_AUTH_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_METADATA_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_DATA_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_GATEWAY_HOST": "127.0.0.1",
            "DEPICTIO_GATEWAY_PORT": str(free_port()),
            "DEPICTIO_ADMIN_EMAIL": "admin@example.org",
            "DEPICTIO_ADMIN_PASSWORD": secrets.token_urlsafe(18),
            "DEPICTIO_LOG_LEVEL": "INFO",
        }
    )
    env.update(overrides)
    return env


def settings_from_env(env: dict[str, str]) -> Settings:
    """The settings the children will read from `env`."""
    values = {
        key.removeprefix("DEPICTIO_").lower(): value
        for key, value in env.items()
        if key.startswith("DEPICTIO_")
    }
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
def make_stack() -> Iterator[MakeStack]:
    """`with make_stack(DEPICTIO_AUTH_MODE="public") as stack:` runs a fresh stack.

    Each stack gets its own data dir and ports; it is stopped when the block ends, and any
    stack still running at the end of the session is stopped then.
    """
    with ExitStack() as session:
        root = Path(session.enter_context(tempfile.TemporaryDirectory(prefix="depictio-")))
        count = 0

        @contextmanager
        def start(**overrides: str) -> Iterator[Stack]:
            nonlocal count
            count += 1
            data_dir = root / f"stack-{count}"
            env = stack_env(data_dir, **overrides)
            settings = settings_from_env(env)
            group = ProcessGroup(default_children(settings), env, data_dir / "logs")
            session.callback(group.stop_all)
            with group:
                group.start_all()
                yield Stack(
                    gateway_url=gateway_url(settings),
                    auth_addr=settings.auth_addr,
                    metadata_addr=settings.metadata_addr,
                    data_addr=settings.data_addr,
                    data_dir=data_dir,
                    admin_email=settings.admin_email,
                    admin_password=settings.admin_password,
                    env=env,
                    group=group,
                )

        yield start


@pytest.fixture(scope="session")
def stack(make_stack: MakeStack) -> Iterator[Stack]:
    """One default stack (auth mode) shared by the whole session."""
    with make_stack() as running:
        yield running
