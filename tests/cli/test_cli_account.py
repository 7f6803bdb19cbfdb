"""`depictio login|logout|whoami`, `depictio dashboard validate|import|export` and `depictio
project validate` through the real console script: saved credentials (0600), exit codes 0/1/2,
errors naming the field path, dashboards round-tripped through the gateway."""

from __future__ import annotations

import json
import stat
import subprocess
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml
from cli_support import DEMO, Cli, Server, copy_demo
from conftest import Stack

pytestmark = pytest.mark.timeout(300)

IRIS_DASHBOARD = DEMO / "iris" / "dashboard.yaml"


@pytest.fixture
def anonymous(cli_stack: Stack, tmp_path: Path) -> Cli:
    """The console script with an empty config dir and no DEPICTIO_TOKEN."""
    return Cli(cli_stack.gateway_url, tmp_path / "config", token="")


def status_of_me(gateway_url: str, secret: str) -> int:
    """The status `GET /api/v1/auth/me` answers for a bearer token."""
    headers = {"authorization": f"Bearer {secret}"}
    return httpx.get(f"{gateway_url}/api/v1/auth/me", headers=headers, timeout=30).status_code


def config_file(cli: Cli) -> Path:
    return cli.config_home / "depictio" / "config.toml"


def login(cli: Cli, stack: Stack, password: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "login", "--url", stack.gateway_url, "--email", stack.admin_email, "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip


def test_login_whoami_logout(anonymous: Cli, cli_stack: Stack) -> None:
    done = login(anonymous, cli_stack, cli_stack.admin_password)
    assert done.returncode == 0, done.stderr
    path = config_file(anonymous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = tomllib.loads(path.read_text())["gateway"]
    assert saved["url"] == cli_stack.gateway_url
    assert saved["email"] == cli_stack.admin_email
    assert saved["token"].startswith("dpt_") and saved["token_id"]
    assert status_of_me(cli_stack.gateway_url, saved["token"]) == 200

    # No DEPICTIO_TOKEN: whoami uses the saved token; --json is one JSON document.
    whoami = anonymous("whoami", "--json")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["email"] == cli_stack.admin_email
    plain = anonymous("whoami")
    assert plain.returncode == 0 and cli_stack.admin_email in plain.stdout

    done = anonymous("logout")
    assert done.returncode == 0, done.stderr
    assert not path.exists()
    assert status_of_me(cli_stack.gateway_url, saved["token"]) == 401
    # Nobody signed in and no DEPICTIO_TOKEN: a usage error.
    nobody = anonymous("whoami")
    assert nobody.returncode == 2
    assert "not signed in" in nobody.stderr


def test_wrong_password_exits_1_and_saves_nothing(anonymous: Cli, cli_stack: Stack) -> None:
    done = login(anonymous, cli_stack, cli_stack.admin_password + "-wrong")
    assert done.returncode == 1, done.stderr
    assert "401" in done.stderr
    assert not config_file(anonymous).exists()


def test_login_needs_exactly_one_of_email_and_token(anonymous: Cli, cli_stack: Stack) -> None:
    url = cli_stack.gateway_url
    both = anonymous(
        "login", "--url", url, "--email", cli_stack.admin_email, "--password-stdin",
        "--token", "dpt_whatever", stdin="secret\n",
    )  # fmt: skip
    neither = anonymous("login", "--url", url)
    for done in (both, neither):
        assert done.returncode == 2, done.stderr
        assert "either --email" in done.stderr
    assert not config_file(anonymous).exists()


def test_login_with_api_token_is_not_revoked_by_logout(
    anonymous: Cli, cli_stack: Stack, admin_api_token: str
) -> None:
    done = anonymous("login", "--url", cli_stack.gateway_url, "--token", admin_api_token)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(config_file(anonymous).stat().st_mode) == 0o600
    assert anonymous.ok_json("whoami")["email"] == cli_stack.admin_email
    assert anonymous("logout").returncode == 0
    assert not config_file(anonymous).exists()
    # logout revokes only a token login created; this one was the caller's own.
    assert status_of_me(cli_stack.gateway_url, admin_api_token) == 200


def test_dashboard_validate_accepts_the_demo_and_names_bad_fields(tmp_path: Path) -> None:
    cli = Cli("http://127.0.0.1:9", tmp_path / "config")  # offline: no gateway is called
    good = cli("dashboard", "validate", str(IRIS_DASHBOARD))
    assert good.returncode == 0, good.stderr

    document = yaml.safe_load(IRIS_DASHBOARD.read_text())
    unknown = {**document, "colour": "red"}
    dangling = yaml.safe_load(IRIS_DASHBOARD.read_text())
    assert dangling["tabs"][0]["layout"][4]["i"] == "iris_rows"
    dangling["tabs"][0]["layout"][4]["i"] = "no_such_component"
    for name, broken, field in (
        ("unknown.yaml", unknown, "colour: unknown key"),
        ("dangling.yaml", dangling, "tabs[0].layout[4].i: no component 'no_such_component'"),
    ):
        path = tmp_path / name
        path.write_text(yaml.safe_dump(broken, sort_keys=False))
        done = cli("dashboard", "validate", str(path))
        assert done.returncode == 1, done.stderr
        assert f"{path}: {field}" in " ".join(done.stderr.split())


def test_project_validate_names_unknown_field_and_typer_usage_exits_2(tmp_path: Path) -> None:
    cli = Cli("http://127.0.0.1:9", tmp_path / "config")
    config = copy_demo("iris", tmp_path, "Iris validate")
    document = yaml.safe_load(config.read_text())
    document["data_collections"][0]["config"]["colour"] = "red"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    done = cli("project", "validate", str(config))
    assert done.returncode == 1, done.stderr
    message = " ".join(done.stderr.split())
    assert f"{config}: data_collections[0].config.colour: unknown key" in message

    missing_argument = cli("dashboard", "export")
    assert missing_argument.returncode == 2
    assert "Missing argument" in missing_argument.stderr


def test_dashboard_import_and_export_round_trip(
    cli_stack: Stack, admin_api_token: str, tmp_path: Path
) -> None:
    cli = Cli(cli_stack.gateway_url, tmp_path / "config", admin_api_token)
    config = copy_demo("iris", tmp_path, "Iris dashboards")
    project_id = cli.ok_json("run", str(config))["project"]["id"]

    source = yaml.safe_load((config.parent / "dashboard.yaml").read_text())
    assert source["title"] == "Iris (demo)"
    imported = cli.ok_json(
        "dashboard", "import", str(config.parent / "dashboard.yaml"), "--project-id", project_id
    )
    assert imported["project_id"] == project_id
    server = Server(cli_stack.gateway_url, admin_api_token)
    try:
        stored = server.get(f"/api/v1/dashboards/{imported['id']}")
    finally:
        server.close()
    assert stored["title"] == "Iris (demo)"
    assert stored["project_id"] == project_id

    out = tmp_path / "out.yaml"
    done = cli("dashboard", "export", imported["id"], "-o", str(out))
    assert done.returncode == 0, done.stderr
    exported = yaml.safe_load(out.read_text())
    assert exported["title"] == "Iris (demo)"
    ids = [[c["id"] for c in tab["components"]] for tab in exported["tabs"]]
    assert ids == [[c["id"] for c in tab["components"]] for tab in source["tabs"]]
