"""The people of the browser tests: accounts registered and given project roles through the
gateway's REST API, as a script would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

AUTH = "/api/v1/auth"


@dataclass(frozen=True)
class Account:
    """A user and the password to sign in with."""

    user_id: str
    email: str
    password: str


def unique_email(label: str) -> str:
    """An e-mail address no other test uses."""
    return f"{label}-{uuid.uuid4().hex[:10]}@example.org"


def access_token(gateway: httpx.Client, email: str, password: str) -> str:
    """An access token of the account (its password must be right)."""
    response = gateway.post(f"{AUTH}/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def register(gateway: httpx.Client, label: str) -> Account:
    """A new account, registered as anyone may."""
    email, password = unique_email(label), f"pw-{uuid.uuid4().hex}"
    response = gateway.post(f"{AUTH}/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return Account(str(response.json()["id"]), email, password)


def add_member(
    gateway: httpx.Client, owner_token: str, project_id: str, email: str, role: str
) -> None:
    """Gives the user with this e-mail a role in the project (as one of its owners)."""
    response = gateway.put(
        f"/api/v1/projects/{project_id}/members",
        json={"email": email, "role": role},
        headers={"Authorization": f"Bearer {owner_token}"},
    )
    assert response.status_code == 200, response.text
