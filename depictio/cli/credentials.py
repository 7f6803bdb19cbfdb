"""The CLI's saved sign-in: `~/.config/depictio/config.toml` (mode 0600) and its overrides.

`--url` beats `DEPICTIO_URL`, which beats the file; `DEPICTIO_TOKEN` beats the file's token.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from depictio.cli.failures import CliFailure, UsageFailure

URL_VARIABLE = "DEPICTIO_URL"
TOKEN_VARIABLE = "DEPICTIO_TOKEN"


@dataclass(frozen=True)
class Credentials:
    """Where the gateway is and the bearer token to send it."""

    url: str
    token: str
    email: str = ""
    # The API token `depictio login --email` created, revoked again by `depictio logout`.
    token_id: str = ""


def config_path() -> Path:
    """`$XDG_CONFIG_HOME/depictio/config.toml`, else `~/.config/depictio/config.toml`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "depictio" / "config.toml"


def load_saved() -> Credentials | None:
    """The saved credentials, or None when nobody is signed in."""
    path = config_path()
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CliFailure(
            f"{path}: not a readable config file ({exc}); remove it and log in"
        ) from exc
    values = data.get("gateway", {})
    if not isinstance(values, dict) or not values.get("url"):
        raise CliFailure(f"{path}: [gateway] url is missing; run depictio login")
    return Credentials(
        url=str(values["url"]),
        token=str(values.get("token", "")),
        email=str(values.get("email", "")),
        token_id=str(values.get("token_id", "")),
    )


def save(credentials: Credentials) -> Path:
    """Writes the config file readable by its owner only (0600, created so from the start)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # TOML basic strings take JSON's escapes for the characters these values can hold.
    lines = ["[gateway]"] + [
        f"{key} = {json.dumps(value)}"
        for key, value in (
            ("url", credentials.url),
            ("token", credentials.token),
            ("email", credentials.email),
            ("token_id", credentials.token_id),
        )
    ]
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(partial, 0o600)
    partial.replace(path)
    return path


def forget() -> bool:
    """Removes the config file: True when there was one."""
    path = config_path()
    if path.exists():
        path.unlink()
        return True
    return False


def normalized_url(url: str) -> str:
    """The gateway URL without a trailing slash; only http(s) URLs are accepted."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise UsageFailure(f"--url: expected an http:// or https:// URL, got {url!r}")
    return url


def resolve(url_option: str | None = None) -> Credentials:
    """The credentials a command uses: saved ones under the command-line and env overrides."""
    saved = load_saved()
    url = url_option or os.environ.get(URL_VARIABLE) or (saved.url if saved else "")
    if not url:
        raise UsageFailure(
            f"no gateway: run `depictio login --url URL …`, or set {URL_VARIABLE} or --url"
        )
    token = os.environ.get(TOKEN_VARIABLE) or (saved.token if saved else "")
    return Credentials(
        url=normalized_url(url),
        token=token,
        email=saved.email if saved else "",
        token_id=saved.token_id if saved else "",
    )
