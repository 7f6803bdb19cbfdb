"""The Helm chart, checked without a helm binary: metadata, values the templates use, settings.

No helm binary installs from the registries these machines reach, so the chart is not rendered
here; what can go wrong between the templates and values.yaml is checked statically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from deploy_files import (
    CHART,
    SETTING_NAME,
    depictio_services,
    grpc_service_names,
    load_yaml,
    setting_env_names,
)

VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
# A component's fields used through `range $name, $component := .Values.components`.
COMPONENT_PATH = re.compile(r"\$component((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
# Sections a template only reads inside `with`/`if` on them; every other field is required.
OPTIONAL_SECTIONS = {"grpc", "http", "flight"}


def values() -> dict[str, Any]:
    return dict(load_yaml(CHART / "values.yaml"))


def templates() -> list[Path]:
    return sorted((CHART / "templates").iterdir())


def has_path(document: Any, path: list[str]) -> bool:
    for key in path:
        if not isinstance(document, dict) or key not in document:
            return False
        document = document[key]
    return True


def test_chart_metadata() -> None:
    chart = load_yaml(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "depictio" == CHART.name
    for field in ("version", "appVersion"):
        assert re.fullmatch(r"\d+\.\d+\.\d+", str(chart[field])), field


@pytest.mark.parametrize("template", templates(), ids=lambda path: path.name)
def test_template_uses_only_values_that_exist(template: Path) -> None:
    text = template.read_text()
    for match in VALUES_PATH.finditer(text):
        path = match[1].lstrip(".").split(".")
        assert has_path(values(), path), f"{template.name}: .Values.{'.'.join(path)} is not set"
    components = values()["components"]
    for match in COMPONENT_PATH.finditer(text):
        path = match[1].lstrip(".").split(".")
        holders = [name for name, c in components.items() if has_path(c, path)]
        if path[0] in OPTIONAL_SECTIONS:
            assert holders, f"{template.name}: no component has {'.'.join(path)}"
        else:
            assert len(holders) == len(components), (
                f"{template.name}: {'.'.join(path)} is missing in "
                f"{sorted(set(components) - set(holders))}"
            )


def test_every_depictio_variable_is_a_setting() -> None:
    used = set()
    for path in [CHART / "values.yaml", *templates()]:
        used |= set(SETTING_NAME.findall(path.read_text()))
    assert used <= setting_env_names(), f"not settings: {sorted(used - setting_env_names())}"


def test_components_match_the_processes_compose_runs() -> None:
    components = values()["components"]
    compose_env = dict(depictio_services().values())
    assert {c["module"] for c in components.values()} == set(compose_env)
    for component in components.values():
        module = component["module"]
        if "grpc" in component:
            grpc = component["grpc"]
            assert grpc["service"] == grpc_service_names()[module]
            assert compose_env["gateway"][grpc["addressEnv"]].endswith(f":{grpc['port']}")
        if "flight" in component:  # bound in its own container, named for the others
            flight = component["flight"]
            assert compose_env[module][flight["addressEnv"]] == f"0.0.0.0:{flight['port']}"
            assert compose_env["gateway"][flight["addressEnv"]].endswith(f":{flight['port']}")
        if "http" in component:
            http = component["http"]
            assert compose_env[module][http["portEnv"]] == str(http["port"])
            assert compose_env[module][http["hostEnv"]] == "0.0.0.0"


def test_secrets_come_from_the_secret_and_are_listed_in_the_notes() -> None:
    notes = (CHART / "templates" / "NOTES.txt").read_text()
    config = values()["config"]
    for name, component in values()["components"].items():
        for variable, key in component["secretEnv"].items():
            assert variable not in config, f"{variable} is a secret; keep it out of config"
            assert key in notes, f"{name}'s secret key {key} is not named in NOTES.txt"
    for variable in config:
        assert not re.search(r"PASSWORD|SECRET|_URL$", variable) or variable.endswith(
            "STORAGE_URL"
        ), f"{variable} may hold a secret; take it from the Secret"
