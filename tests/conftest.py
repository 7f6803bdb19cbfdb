"""Shared fixtures: free ports and whole Depictio stacks run by the `depictio up` supervisor."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_support import Cli, Server, api_token

from depictio.cli.supervisor import ProcessGroup, default_children, gateway_url, ui_url
from depictio.config import Settings
from depictio.embedded_redis import redis_server_argv

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
    ui_url: str
    auth_addr: str
    metadata_addr: str
    data_addr: str
    data_flight_addr: str
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
            "DEPICTIO_DATA_FLIGHT_ADDR": f"127.0.0.1:{free_port()}",
            "DEPICTIO_GATEWAY_HOST": "127.0.0.1",
            "DEPICTIO_GATEWAY_PORT": str(free_port()),
            "DEPICTIO_UI_HOST": "127.0.0.1",
            "DEPICTIO_UI_PORT": str(free_port()),
            "DEPICTIO_ADMIN_EMAIL": "admin@example.org",
            "DEPICTIO_ADMIN_PASSWORD": secrets.token_urlsafe(18),
            "DEPICTIO_LOG_LEVEL": "INFO",
        }
    )
    test_mongo_url = os.environ.get("DEPICTIO_TEST_MONGO_URL", "")
    if test_mongo_url:
        # A real MongoDB: each stack gets databases of its own.
        env["DEPICTIO_MONGO_URL"] = test_mongo_url
        env["DEPICTIO_MONGO_DB_PREFIX"] = f"test_{secrets.token_hex(6)}"
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

    The UI (dash_apps) is started only with `ui=True`. Each stack gets its own data dir and
    ports; it is stopped when the block ends, and any stack still running at the end of the
    session is stopped then.
    """
    with ExitStack() as session:
        root = Path(session.enter_context(tempfile.TemporaryDirectory(prefix="depictio-")))
        count = 0

        @contextmanager
        def start(ui: bool = False, **overrides: str) -> Iterator[Stack]:
            nonlocal count
            count += 1
            data_dir = root / f"stack-{count}"
            env = stack_env(data_dir, **overrides)
            settings = settings_from_env(env)
            children = [
                child for child in default_children(settings) if ui or child.name != "dash_apps"
            ]
            group = ProcessGroup(children, env, data_dir / "logs")
            session.callback(group.stop_all)
            with group:
                group.start_all()
                yield Stack(
                    gateway_url=gateway_url(settings),
                    ui_url=ui_url(settings) if ui else "",
                    auth_addr=settings.auth_addr,
                    metadata_addr=settings.metadata_addr,
                    data_addr=settings.data_addr,
                    data_flight_addr=settings.data_flight_addr,
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


@dataclass
class S3Server:
    """A moto_server process serving the S3 API on loopback."""

    endpoint: str
    access_key: str = "depictio-test"
    secret_key: str = "depictio-test-secret"
    region: str = "us-east-1"

    def env(self, bucket: str) -> dict[str, str]:
        """DEPICTIO_* settings storing Delta tables in `bucket` of this server."""
        return {
            "DEPICTIO_STORAGE_URL": f"s3://{bucket}/tables",
            "DEPICTIO_S3_ENDPOINT": self.endpoint,
            "DEPICTIO_S3_ACCESS_KEY": self.access_key,
            "DEPICTIO_S3_SECRET_KEY": self.secret_key,
            "DEPICTIO_S3_REGION": self.region,
        }


@contextmanager
def background_process(argv: list[str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `argv` until the block ends, once it accepts TCP connections on `port`.

    It is stopped by its own PID (SIGTERM, then SIGKILL after 5 s).
    """
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited early: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not listen on {port}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto_server (separate process: an in-process one can hang delta-rs) on a free port."""
    port = free_port()
    binary = str(Path(sys.executable).parent / "moto_server")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with background_process([binary, "-H", "127.0.0.1", "-p", str(port)], port, log):
        yield S3Server(endpoint=f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server with bounded memory (64 MB, LRU eviction) on a free port."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    argv = redis_server_argv(port, workdir, 64)
    with background_process(argv, port, workdir / "redis.log"):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture(params=["file", "s3"])
def delta_storage(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    """data_svc settings for a fresh storage root: a local directory, then a moto S3 bucket."""
    if request.param == "file":
        yield "file", {"DEPICTIO_STORAGE_URL": tmp_path.joinpath("delta").as_uri()}
        return
    server: S3Server = request.getfixturevalue("s3_server")
    yield "s3", server.env(f"bucket-{secrets.token_hex(6)}")


@pytest.fixture(scope="module")
def cli_stack(make_stack: MakeStack) -> Iterator[Stack]:
    """A stack of the test module's own, for the CLI tests."""
    with make_stack() as running:
        yield running


@pytest.fixture(scope="module")
def admin_api_token(cli_stack: Stack) -> str:
    """An API token of the first admin of `cli_stack`."""
    return api_token(cli_stack.gateway_url, cli_stack.admin_email, cli_stack.admin_password)


@pytest.fixture(scope="module")
def server(cli_stack: Stack, admin_api_token: str) -> Iterator[Server]:
    """What `cli_stack`'s gateway holds, read as its first admin."""
    client = Server(cli_stack.gateway_url, admin_api_token)
    yield client
    client.close()


@pytest.fixture
def cli(cli_stack: Stack, admin_api_token: str, tmp_path: Path) -> Cli:
    """The console script signed in to `cli_stack` as its first admin."""
    return Cli(cli_stack.gateway_url, tmp_path / "config", admin_api_token)
