"""`depictio up`: the whole platform on one machine, with embedded defaults under the data dir.

While it runs, `<data_dir>/run/pids.json` holds `{"supervisor": <pid>, "children": {name: pid}}`
for scripts and tests that need the PIDs; it is removed when `up` stops. Children log to
`<data_dir>/logs/<name>.log`. One Celery worker runs the background tasks, on the Redis
server given by DEPICTIO_REDIS_URL or on the private one `up` starts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console

from depictio.cli.demo import load_demo
from depictio.cli.failures import CliFailure
from depictio.cli.supervisor import (
    ChildError,
    ProcessGroup,
    StartInterrupted,
    default_children,
    describe_exit,
    embedded_redis_child,
    embedded_redis_url,
    gateway_url,
    ui_url,
    worker_child,
)
from depictio.config import AuthMode, Settings
from depictio.healthcheck import GRPC_PROCESSES

PIDS_FILE = Path("run") / "pids.json"
READY_LINE = "Depictio is running — press Ctrl-C to stop"
STARTUP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def stop_requested_on_signals() -> Iterator[threading.Event]:
    """An event set by Ctrl-C, SIGTERM or SIGHUP while the block runs."""
    stop = threading.Event()
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def write_pids(data_dir: Path, group: ProcessGroup) -> Path:
    """Writes pids.json atomically (write, then rename)."""
    path = data_dir / PIDS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"supervisor": os.getpid(), "children": group.pids()}))
    partial.replace(path)
    return path


def take_initial_admin(settings: Settings) -> dict[str, str] | None:
    """The generated first-admin credentials, if auth_svc left them; the file is removed."""
    path = settings.initial_admin_file
    if not path.exists():
        return None
    try:
        credentials = json.loads(path.read_text())
        result = {"email": str(credentials["email"]), "password": str(credentials["password"])}
    except (ValueError, KeyError, TypeError) as exc:
        err.print(f"warning: {path} is not a credentials file ({exc}); left in place", markup=False)
        return None
    path.unlink()
    return result


def print_addresses(settings: Settings) -> None:
    url = gateway_url(settings)
    rows = [
        ("Gateway", url),
        ("API docs", f"{url}/docs"),
        ("UI", ui_url(settings)),
        ("auth_svc", f"{settings.auth_addr} (gRPC)"),
        ("metadata_svc", f"{settings.metadata_addr} (gRPC)"),
        ("data_svc", f"{settings.data_addr} (gRPC)"),
        *(
            [("data_svc", f"{settings.data_flight_addr} (Arrow Flight scans)")]
            if settings.data_flight_addr
            else []
        ),
        ("Redis", settings.redis_url),
        ("Tasks", f"Celery worker ×{settings.worker_concurrency} on that Redis"),
        ("Auth mode", settings.auth_mode.value),
        ("Data", str(settings.data_dir)),
    ]
    for label, value in rows:
        out.print(f"  {label:<13} {value}", markup=False)


def print_admin(settings: Settings, generated: dict[str, str] | None) -> None:
    if settings.auth_mode is AuthMode.SINGLE_USER:
        out.print("  Sign-in       none (single-user mode)", markup=False)
    elif generated is not None:
        out.print("\nFirst admin account — the password is shown only this once:", style="bold")
        out.print(f"  e-mail        {generated['email']}", markup=False)
        out.print(f"  password      {generated['password']}", markup=False)
    elif settings.admin_password:
        out.print(f"  Admin         {settings.admin_email}", markup=False)
        out.print("  password      from DEPICTIO_ADMIN_PASSWORD", markup=False)


def print_demo(settings: Settings, admin_password: str) -> None:
    """Loads the demo projects (a failure is reported; the platform keeps running)."""
    if not admin_password and settings.auth_mode is not AuthMode.SINGLE_USER:
        err.print(
            "  Demo          not loaded: set DEPICTIO_ADMIN_PASSWORD (the generated admin "
            "password is only known at the first start)",
            markup=False,
        )
        return
    out.print("  Demo          loading …", markup=False)
    try:
        loaded = load_demo(gateway_url(settings), settings, admin_password)
    except CliFailure as exc:
        err.print(f"  Demo          not loaded: {exc.message}", markup=False)
        return
    for project in loaded:
        where = (
            f"{ui_url(settings)}/dashboard/{project.dashboard_id}"
            if project.dashboard_id
            else "(no dashboard)"
        )
        out.print(f"  Demo          {project.name}: {project.rows:,} rows, {where}", markup=False)


def supervise(
    group: ProcessGroup, settings: Settings, stop: threading.Event, demo: bool = False
) -> int:
    """Starts the group, reports, and watches it until `stop` is set or a child dies."""
    logs = group.log_dir
    out.print(f"Starting Depictio (logs in {logs}) …", markup=False)
    try:
        group.start_all(timeout=STARTUP_TIMEOUT_SECONDS, cancel=stop)
    except StartInterrupted:
        out.print("Stopped before start-up finished.")
        return 0
    except ChildError as exc:
        err.print(f"Depictio could not start: {exc}", markup=False)
        return 1
    pids_path = write_pids(settings.data_dir, group)
    try:
        for name, pid in group.pids().items():
            out.print(f"  ✓ {name:<13} pid {pid}", markup=False)
        out.print()
        print_addresses(settings)
        generated = take_initial_admin(settings)
        print_admin(settings, generated)
        if demo:
            password = settings.admin_password or (generated or {}).get("password", "")
            print_demo(settings, password)
        out.print(f"\n{READY_LINE}", style="bold green")
        while not stop.wait(POLL_SECONDS):
            dead = group.poll_dead()
            if dead:
                name, returncode = dead[0]
                err.print(
                    group.failure_report(name, f"died: {describe_exit(returncode)}"),
                    markup=False,
                )
                err.print("Stopping the other services …")
                group.stop_all()
                err.print("Stopped.")
                return 1
        out.print("Stopping Depictio …")
        group.stop_all()
        out.print("Stopped.")
        return 0
    finally:
        group.stop_all()
        pids_path.unlink(missing_ok=True)


def listen_addresses(settings: Settings) -> dict[str, tuple[str, int]]:
    """Where each process `up` starts listens: name → (host, port)."""
    found: dict[str, tuple[str, int]] = {}
    for name, (setting, _) in GRPC_PROCESSES.items():
        host, port = str(getattr(settings, setting)).rsplit(":", 1)
        found[name] = (host, int(port))
    found["gateway"] = (settings.gateway_host, settings.gateway_port)
    found["dash_apps"] = (settings.ui_host, settings.ui_port)
    if not settings.redis_url:
        found["redis"] = ("127.0.0.1", settings.embedded_redis_port)
    return found


def busy(host: str, port: int) -> bool:
    """Whether something already listens on (host, port): binding there fails (a closed
    connection's TIME_WAIT does not count)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError:
            return True
    return False


def startup_problem(settings: Settings) -> str | None:
    """Why `up` cannot start here, before anything is started: an unusable data directory,
    or ports something else already listens on."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"DEPICTIO_DATA_DIR {settings.data_dir} cannot be created: {exc.strerror or exc}"
    taken = [
        f"{name} {host}:{port}"
        for name, (host, port) in listen_addresses(settings).items()
        if busy(host, port)
    ]
    if taken:
        return (
            f"already in use: {', '.join(taken)} — another Depictio (or another program) "
            "listens there; stop it, or choose other ports (see README, Configuration)"
        )
    return None


def run_up(data_dir: Path | None = None, demo: bool = False) -> int:
    """Runs every service until Ctrl-C/SIGTERM (exit code 0) or until one dies (1)."""
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    settings = settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    problem = startup_problem(settings)
    if problem is not None:
        Console(stderr=True).print(f"error: {problem}", markup=False, style="red")
        return 1
    env = {**os.environ, "DEPICTIO_DATA_DIR": str(settings.data_dir)}
    children = default_children(settings)
    if not settings.redis_url:
        children.insert(0, embedded_redis_child(settings))
        env["DEPICTIO_REDIS_URL"] = embedded_redis_url(settings)
        settings = settings.model_copy(update={"redis_url": env["DEPICTIO_REDIS_URL"]})
    children.append(worker_child(settings))
    group = ProcessGroup(children, env, settings.data_dir / "logs")
    with stop_requested_on_signals() as stop:
        return supervise(group, settings, stop, demo)
