"""`depictio up` end to end: the real console script, its children, signals and credentials."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from conftest import free_port

from depictio.cli.up import PIDS_FILE, READY_LINE

pytestmark = pytest.mark.timeout(180)

SCRIPT = Path(sys.executable).parent / "depictio"
CHILDREN = {"redis", "auth_svc", "metadata_svc", "data_svc", "gateway", "dash_apps", "worker"}
READY_TIMEOUT = 90.0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class UpProcess:
    """A running `depictio up`, with its merged stdout/stderr collected line by line."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], data_dir: Path):
        self.data_dir = data_dir
        self.child_pids: dict[str, int] = {}
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self._lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    def wait_for_output(self, text: str, timeout: float) -> None:
        """Waits until `text` was printed; fails with the whole output otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self._lines):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and self._reader_done()):
                    pytest.fail(
                        f"`depictio up` did not print {text!r} (exit {self.process.poll()}):\n"
                        + "\n".join(self._lines)
                    )
                self._changed.wait(min(remaining, 0.5))

    def _reader_done(self) -> bool:
        return not self._reader.is_alive()

    def wait_ready(self) -> dict[str, int]:
        """Waits for the ready line; the children's PIDs from pids.json."""
        self.wait_for_output(READY_LINE, READY_TIMEOUT)
        pids_file = json.loads((self.data_dir / PIDS_FILE).read_text())
        assert pids_file["supervisor"] == self.process.pid
        self.child_pids = {name: int(pid) for name, pid in pids_file["children"].items()}
        assert set(self.child_pids) == CHILDREN
        return self.child_pids

    def wait_exit(self, timeout: float = 60) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`depictio up` still running {timeout:.0f} s later:\n{self.output}")
        self._reader.join(timeout=5)
        return code

    def cleanup(self) -> None:
        """Stops `up` and anything it left behind, by PID."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.child_pids.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class UpLauncher:
    """Starts `depictio up` in `cwd` with `env`; remembers every run to clean it up."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env
        self.started: list[UpProcess] = []

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['DEPICTIO_GATEWAY_PORT']}"

    def __call__(self, *args: str) -> UpProcess:
        data_dir = self.cwd / ".depictio"
        if "--data-dir" in args:
            data_dir = Path(args[args.index("--data-dir") + 1])
        up = UpProcess([str(SCRIPT), "up", *args], self.cwd, self.env, data_dir)
        self.started.append(up)
        return up


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[UpLauncher]:
    """Runs `depictio up` in tmp_path on free ports, without DEPICTIO_ADMIN_PASSWORD."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPICTIO_")}
    env.update(
        {
            "DEPICTIO_AUTH_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_METADATA_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_DATA_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_DATA_FLIGHT_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_GATEWAY_PORT": str(free_port()),
            "DEPICTIO_UI_PORT": str(free_port()),
            "DEPICTIO_EMBEDDED_REDIS_PORT": str(free_port()),
            "DEPICTIO_ADMIN_EMAIL": "first.admin@example.org",
            "PYTHONUNBUFFERED": "1",
        }
    )
    launcher = UpLauncher(tmp_path, env)
    yield launcher
    for up in launcher.started:
        up.cleanup()


def printed_credentials(output: str) -> tuple[str, str]:
    email = re.search(r"^\s*e-mail\s+(\S+)\s*$", output, re.MULTILINE)
    password = re.search(r"^\s*password\s+(\S+)\s*$", output, re.MULTILINE)
    assert email and password, f"no credentials in the output:\n{output}"
    return email.group(1), password.group(1)


def test_version_prints_the_installed_version() -> None:
    result = subprocess.run([str(SCRIPT), "version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"depictio \d+\.\d+\.\d+\S*\n", result.stdout)


def test_up_serves_prints_generated_admin_once_and_stops_cleanly_on_sigterm(
    start_up: UpLauncher, tmp_path: Path
) -> None:
    up = start_up()
    pids = up.wait_ready()
    gateway = start_up.gateway_url
    assert gateway in up.output
    assert f"{gateway}/docs" in up.output
    email, password = printed_credentials(up.output)
    assert email == "first.admin@example.org"
    assert not (tmp_path / ".depictio" / "initial-admin.json").exists()
    assert (tmp_path / ".depictio" / "logs" / "auth_svc.log").exists()

    with httpx.Client(base_url=gateway, timeout=10) as client:
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        access = login.json()["access_token"]
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email

        registered = client.post(
            "/api/v1/auth/register",
            json={"email": "new.user@example.org", "password": "a long enough passphrase 42"},
        )
        assert registered.status_code == 201, registered.text
        login = client.post(
            "/api/v1/auth/login",
            json={"email": "new.user@example.org", "password": "a long enough passphrase 42"},
        )
        assert login.status_code == 200, login.text

    # The private Redis of the embedded defaults: memory-bounded, evicting expiring keys only.
    cache = redis.Redis(port=int(start_up.env["DEPICTIO_EMBEDDED_REDIS_PORT"]))
    assert cache.config_get("maxmemory")["maxmemory"] == str(256 * 1024 * 1024)
    assert cache.config_get("maxmemory-policy")["maxmemory-policy"] == "volatile-lru"
    cache.close()
    assert f"redis://127.0.0.1:{start_up.env['DEPICTIO_EMBEDDED_REDIS_PORT']}/0" in up.output

    up.process.send_signal(signal.SIGTERM)
    assert up.wait_exit() == 0, up.output
    still_alive = [name for name, pid in pids.items() if alive(pid)]
    assert still_alive == [], f"children left running after SIGTERM: {still_alive}"
    assert not (tmp_path / ".depictio" / PIDS_FILE).exists()


def test_a_child_killed_while_running_is_reported_and_up_exits_1(
    start_up: UpLauncher,
) -> None:
    up = start_up()
    pids = up.wait_ready()
    os.kill(pids["metadata_svc"], signal.SIGKILL)
    assert up.wait_exit() == 1, up.output
    assert re.search(r"metadata_svc \(pid \d+\) died: killed by signal SIGKILL \(9\)", up.output)
    still_alive = [name for name, pid in pids.items() if alive(pid)]
    assert still_alive == [], f"children left running after metadata_svc died: {still_alive}"


def test_a_second_start_does_not_print_the_password_again(
    start_up: UpLauncher, tmp_path: Path
) -> None:
    data_dir = tmp_path / "state"
    first = start_up("--data-dir", str(data_dir))
    first.wait_ready()
    _, password = printed_credentials(first.output)
    first.process.send_signal(signal.SIGINT)
    assert first.wait_exit() == 0, first.output

    second = start_up("--data-dir", str(data_dir))
    second.wait_ready()
    assert password not in second.output
    assert not re.search(r"^\s*password\s", second.output, re.MULTILINE), second.output
    second.process.send_signal(signal.SIGTERM)
    assert second.wait_exit() == 0, second.output


def test_a_child_that_cannot_start_is_named_and_up_exits_1(
    start_up: UpLauncher, tmp_path: Path
) -> None:
    broken_key = tmp_path / "signing-key.pem"
    broken_key.write_text("not a key\n")
    start_up.env["DEPICTIO_SIGNING_KEY_FILE"] = str(broken_key)
    up = start_up()
    assert up.wait_exit(timeout=120) == 1, up.output
    assert "Depictio could not start: auth_svc" in up.output
    assert "Last 20 lines of" in up.output
    assert not (tmp_path / ".depictio" / PIDS_FILE).exists()


def test_ports_in_use_are_named_before_anything_starts(
    start_up: UpLauncher, tmp_path: Path
) -> None:
    with socket.socket() as gateway, socket.socket() as grpc_port:
        for taken in (gateway, grpc_port):
            taken.bind(("127.0.0.1", 0))
            taken.listen()
        gateway_port = gateway.getsockname()[1]
        auth_port = grpc_port.getsockname()[1]
        start_up.env["DEPICTIO_GATEWAY_PORT"] = str(gateway_port)
        start_up.env["DEPICTIO_AUTH_ADDR"] = f"127.0.0.1:{auth_port}"
        up = start_up()
        assert up.wait_exit(timeout=60) == 1, up.output
    message = " ".join(up.output.split())
    assert (
        f"error: already in use: auth_svc 127.0.0.1:{auth_port}, gateway 127.0.0.1:{gateway_port}"
        in message
    )
    # Nothing was started: the error is all it printed, and no child left a log.
    assert up.output.strip().startswith("error: already in use")
    assert not (tmp_path / ".depictio" / "logs").exists()


def test_an_unusable_data_dir_is_named(start_up: UpLauncher, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    up = start_up("--data-dir", str(blocker / "state"))
    assert up.wait_exit(timeout=60) == 1, up.output
    message = " ".join(up.output.split())
    assert f"error: DEPICTIO_DATA_DIR {blocker / 'state'} cannot be created: Not a directory" in (
        message
    )
    assert "Traceback" not in up.output


def test_children_do_not_outlive_a_killed_supervisor(start_up: UpLauncher) -> None:
    up = start_up()
    pids = up.wait_ready()
    up.process.send_signal(signal.SIGKILL)
    up.wait_exit()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    still_alive = [name for name, pid in pids.items() if alive(pid)]
    assert still_alive == [], f"children left running after `up` was killed: {still_alive}"


def test_up_demo_loads_both_demo_projects_with_dashboards_once(
    start_up: UpLauncher, tmp_path: Path
) -> None:
    up = start_up("--demo")
    up.wait_ready()
    email, password = printed_credentials(up.output)
    assert re.search(
        r"Demo\s+Iris \(demo\): 150 rows, http://127\.0\.0\.1:\d+/dashboard/\w+", up.output
    ), up.output
    # 342 penguins in each of the two source tables.
    assert re.search(r"Demo\s+Palmer penguins \(demo\): 684 rows", up.output), up.output
    with httpx.Client(base_url=start_up.gateway_url, timeout=30) as client:
        access = client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {access}"}
        projects = client.get("/api/v1/projects", headers=headers).json()["items"]
        assert sorted(p["name"] for p in projects) == ["Iris (demo)", "Palmer penguins (demo)"]
        dashboards = client.get("/api/v1/dashboards", headers=headers).json()["items"]
        assert len(dashboards) == 2
    up.cleanup()
    assert up.process.returncode == 0

    # A second start with the password known loads nothing twice.
    start_up.env["DEPICTIO_ADMIN_PASSWORD"] = password
    again = start_up("--demo")
    again.wait_ready()
    with httpx.Client(base_url=start_up.gateway_url, timeout=30) as client:
        access = client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        ).json()["access_token"]
        dashboards = client.get(
            "/api/v1/dashboards", headers={"Authorization": f"Bearer {access}"}
        ).json()["items"]
        assert len(dashboards) == 2
