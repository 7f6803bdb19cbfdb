"""What the API tests know of a stack, and the REST calls they share (register, login…)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from depictio.cli.supervisor import ProcessGroup

AUTH = "/api/v1/auth"
ADMIN = "/api/v1/admin"
SERVICE_NAMES = ("auth_svc", "metadata_svc", "data_svc")
CHILD_NAMES = (*SERVICE_NAMES, "gateway")


class StackLike(Protocol):
    """The running stack the `stack` and `make_stack` fixtures of tests/conftest.py give."""

    gateway_url: str
    auth_addr: str
    metadata_addr: str
    admin_email: str
    admin_password: str
    env: dict[str, str]
    group: ProcessGroup

    def log_text(self, name: str) -> str: ...


MakeStack = Callable[..., AbstractContextManager[StackLike]]


@dataclass
class Account:
    """A user the test created, with the tokens of its latest login."""

    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


def random_part(api_token_secret: str) -> str:
    """The random part of an API token secret (`dpt_<token id>_<random>`)."""
    return api_token_secret.split("_", 2)[2]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def new_request_id(label: str) -> str:
    """A request id no other request of the session uses."""
    return f"test-{label}-{uuid.uuid4().hex}"


def unique_email(label: str = "user") -> str:
    """An e-mail address no other test uses."""
    return f"{label}-{uuid.uuid4().hex[:10]}@example.org"


def new_password() -> str:
    """A strong password no other test uses (and easy to find in a log)."""
    return f"pw-{uuid.uuid4().hex}"


def client_for(stack: StackLike) -> httpx.Client:
    """An HTTP client of the stack's gateway."""
    return httpx.Client(base_url=stack.gateway_url, timeout=30.0)


def login(client: httpx.Client, email: str, password: str) -> dict[str, Any]:
    """The token pair of a successful login."""
    response = client.post(f"{AUTH}/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def sign_up(client: httpx.Client, label: str = "user") -> Account:
    """Registers a fresh user and logs it in."""
    email, password = unique_email(label), new_password()
    response = client.post(f"{AUTH}/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    tokens = login(client, email, password)
    return Account(
        user_id=response.json()["id"],
        email=email,
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
    )


def admin_token(client: httpx.Client, stack: StackLike) -> str:
    """An access token of the stack's first admin."""
    return str(login(client, stack.admin_email, stack.admin_password)["access_token"])
