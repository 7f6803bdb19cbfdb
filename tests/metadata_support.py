"""What the metadata tests share: fixture configs made unique per test, users, RPC calls."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from depictio.clients.auth import AuthClient
from depictio.clients.metadata import MetadataClient
from depictio.rpc.channels import close_channels

T = TypeVar("T")
FIXTURES = Path(__file__).parent / "fixtures" / "projects"
OBJECT_ID = re.compile(r"\b[0-9a-f]{24}\b")
# The environment the fixture configs' {NAME} placeholders are expanded from, as the depictio
# CLI expands them before sending a config (the server never does).
FIXTURE_ENV = {"MARMOT_DATA_ROOT": "/srv/marmots"}


def fixture_text(name: str) -> str:
    """A fixture project config as written."""
    return (FIXTURES / name).read_text()


def expanded(text: str) -> str:
    """A config's text with its placeholders expanded from FIXTURE_ENV, as the CLI sends it."""
    for name, value in FIXTURE_ENV.items():
        text = text.replace(f"{{{name}}}", value)
    return text


def unique_config(fixture: str, **overrides: Any) -> str:
    """A fixture config with a unique name and fresh ids (consistently replaced), as YAML with
    its placeholders expanded."""
    text = expanded(fixture_text(fixture))
    for old in sorted(set(OBJECT_ID.findall(text))):
        text = text.replace(old, uuid.uuid4().hex[:24])
    data = yaml.safe_load(text)
    data["name"] = f"{data['name']} {uuid.uuid4().hex[:8]}"
    data.update(overrides)
    return yaml.safe_dump(data, sort_keys=False)


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Runs one coroutine on a fresh event loop and closes its channels."""

    async def wrapper() -> T:
        try:
            return await factory()
        finally:
            await close_channels()

    return asyncio.run(wrapper())


def metadata(stack: Any, token: str = "") -> MetadataClient:
    return MetadataClient(stack.metadata_addr, token=token)


def new_user(stack: Any, label: str = "user") -> tuple[str, str, str]:
    """(user_id, email, access token) of a fresh account."""
    email = f"{label}-{uuid.uuid4().hex[:10]}@example.org"
    password = f"pw-{uuid.uuid4().hex}"

    async def register() -> tuple[str, str, str]:
        client = AuthClient(stack.auth_addr)
        user = await client.register(email, password)
        tokens = await client.login(email, password)
        return user.id, email, tokens.access_token

    return run(register)


def admin_token(stack: Any) -> str:
    async def login() -> str:
        tokens = await AuthClient(stack.auth_addr).login(stack.admin_email, stack.admin_password)
        return str(tokens.access_token)

    return run(login)
