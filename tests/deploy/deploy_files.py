"""The files under deploy/, read for the tests, and the facts they are checked against."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from depictio.config import Settings
from depictio.healthcheck import GRPC_PROCESSES

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
ENVOY_FILE = DEPLOY / "envoy" / "envoy.yaml"
CHART = DEPLOY / "helm" / "depictio"

SETTING_NAME = re.compile(r"\bDEPICTIO_[A-Z0-9_]+\b")
# Compose interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}.
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def setting_env_names() -> set[str]:
    """Every DEPICTIO_* variable Settings reads, from the model's own fields."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose() -> dict[str, Any]:
    return dict(load_yaml(COMPOSE_FILE))


def interpolate(value: str, secret: str = "s3cr3t") -> str:
    """`value` as compose would see it with every required variable set to `secret`."""

    def replace(match: re.Match[str]) -> str:
        if match["op"] in {":-", "-"}:
            return match["arg"]
        return secret

    return INTERPOLATION.sub(replace, value.replace("$$", "$"))


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment, interpolated."""
    return {key: interpolate(str(value)) for key, value in service.get("environment", {}).items()}


def python_module(service: dict[str, Any]) -> str | None:
    """The module a service runs with `python -m`, if it runs one."""
    command = service.get("command") or []
    if command[:2] == ["python", "-m"]:
        return str(command[2])
    return None


def depictio_services() -> dict[str, tuple[str, dict[str, str]]]:
    """Compose service name → (module it runs, its interpolated environment)."""
    found = {}
    for name, service in compose()["services"].items():
        module = python_module(service)
        if module is not None:
            found[name] = (module, compose_env(service))
    return found


def grpc_service_names() -> dict[str, str]:
    """Process module → full name of the gRPC service it serves (from the generated protos)."""
    return {module: service for module, (_, service) in GRPC_PROCESSES.items()}


def address_env(module: str) -> str:
    """The DEPICTIO_* variable holding a gRPC process's address, e.g. DEPICTIO_AUTH_ADDR."""
    return f"DEPICTIO_{GRPC_PROCESSES[module][0].upper()}"
