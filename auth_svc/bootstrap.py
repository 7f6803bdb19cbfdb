"""First start: the first admin, from DEPICTIO_ADMIN_EMAIL / DEPICTIO_ADMIN_PASSWORD."""

from __future__ import annotations

import json
import logging
import os
import secrets
import uuid
from pathlib import Path

from auth_svc.passwords import hash_password
from auth_svc.store import AuthStore, now
from depictio.config import Settings

log = logging.getLogger("auth_svc.bootstrap")


def write_private_file(path: Path, content: str) -> None:
    """Writes a file only its owner can read (mode 0600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)


async def ensure_first_admin(store: AuthStore, settings: Settings) -> None:
    """Creates the first admin when no admin exists yet.

    A generated password is never logged: it goes to `<data_dir>/initial-admin.json` (0600),
    which `depictio up` prints once and deletes.
    """
    if await store.count_active_admins() > 0:
        return
    generated = not settings.admin_password
    password = settings.admin_password or secrets.token_urlsafe(15)
    await store.insert_user(
        {
            "_id": uuid.uuid4().hex,
            "email": settings.admin_email,
            "password_hash": hash_password(password),
            "is_admin": True,
            "is_active": True,
            "created_at": now(),
            "last_login_at": None,
        }
    )
    if generated:
        path = settings.initial_admin_file
        write_private_file(path, json.dumps({"email": settings.admin_email, "password": password}))
        log.info(
            "created the first admin with a generated password",
            extra={"email": settings.admin_email, "credentials_file": str(path)},
        )
    else:
        log.info("created the first admin", extra={"email": settings.admin_email})
