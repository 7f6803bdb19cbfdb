"""Starts, health-checks and stops a group of child processes (`depictio up` and the tests).

Each child runs in its own session (so a Ctrl-C in the terminal reaches only the supervisor),
writes stdout and stderr to `<log_dir>/<name>.log`, and is signalled only by the PID this
group started — never by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from depictio.cli.probes import (
    GrpcHealth,
    HealthProbe,
    HealthProber,
    HttpHealth,
    RedisHealth,
    WorkerHealth,
)
from depictio.config import Settings
from depictio.embedded_redis import redis_server_argv

LOG_TAIL_LINES = 20
# Children run under this wrapper so that they die with the supervisor, even a SIGKILLed one.
ORPHAN_GUARD = (sys.executable, "-m", "depictio.cli.orphan_guard")
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class ChildSpec:
    """One child process: its name, command line and how to tell it is ready.

    Children of a lower `stage` are started, and healthy, before those of a higher one.
    """

    name: str
    argv: list[str]
    health: HealthProbe
    stage: int = 0


class ChildError(RuntimeError):
    """A child failed to start, stopped being healthy or could not be controlled."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


class StartInterrupted(RuntimeError):
    """Start-up was cancelled (e.g. Ctrl-C) before every child was healthy."""


def describe_exit(returncode: int) -> str:
    """'exited with code 3' or 'killed by signal SIGKILL (9)'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"killed by signal {name} ({-returncode})"
    return f"exited with code {returncode}"


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    log_offset: int = 0
    stopping: bool = False
    last_probe: str = "not probed yet"


class ProcessGroup:
    """The children of one supervisor; usable as a context manager that stops them on exit."""

    def __init__(self, children: Iterable[ChildSpec], env: Mapping[str, str], log_dir: Path):
        self._children: dict[str, _Child] = {}
        for spec in children:
            if spec.name in self._children:
                raise ValueError(f"two children are named {spec.name!r}")
            self._children[spec.name] = _Child(spec)
        self.env = {"PYTHONUNBUFFERED": "1", **env}
        self.log_dir = Path(log_dir)
        self._prober = HealthProber()

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()

    def log_path(self, name: str) -> Path:
        """Where the child's stdout and stderr go."""
        return self.log_dir / f"{self._child(name).spec.name}.log"

    def log_text(self, name: str) -> str:
        """Everything the child has written (over all of its starts)."""
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    def pid(self, name: str) -> int | None:
        """The PID of the child's current (or last) process; None before its first start."""
        process = self._child(name).process
        return process.pid if process is not None else None

    def pids(self) -> dict[str, int]:
        """PIDs of the children that are running."""
        return {
            name: child.process.pid
            for name, child in self._children.items()
            if child.process is not None and child.process.poll() is None
        }

    def running(self, name: str) -> bool:
        """Whether the child's process is alive."""
        process = self._child(name).process
        return process is not None and process.poll() is None

    def poll_dead(self) -> list[tuple[str, int]]:
        """Children that exited without being asked to, with their return codes."""
        dead = []
        for name, child in self._children.items():
            if child.process is None or child.stopping:
                continue
            returncode = child.process.poll()
            if returncode is not None:
                dead.append((name, returncode))
        return dead

    def start_all(self, timeout: float = 30.0, cancel: threading.Event | None = None) -> None:
        """Starts every child stage by stage, each stage healthy before the next.

        On failure every child is stopped and ChildError says which child failed and how;
        when `cancel` is set meanwhile, every child is stopped and StartInterrupted raised.
        """
        stages = sorted({child.spec.stage for child in self._children.values()})
        try:
            for stage in stages:
                names = [n for n, c in self._children.items() if c.spec.stage == stage]
                for name in names:
                    self._spawn(name)
                self._wait_healthy(names, timeout, cancel)
        except BaseException:
            self.stop_all()
            raise

    def start(self, name: str, timeout: float = 30.0) -> None:
        """Starts one child and waits until it is healthy (stopping it again if it is not)."""
        self._spawn(name)
        try:
            self._wait_healthy([name], timeout, None)
        except BaseException:
            self.stop(name)
            raise

    def stop(self, name: str, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` seconds; the return code (None if not started)."""
        self._terminate([name], timeout)
        process = self._child(name).process
        return process.returncode if process is not None else None

    def kill(self, name: str) -> int | None:
        """SIGKILL to the child's process group (to test a service that dies); waits for it."""
        child = self._child(name)
        child.stopping = True
        if child.process is None:
            return None
        self._signal_group(child.process, signal.SIGKILL)
        return child.process.wait()

    def stop_all(self, timeout: float = 10.0) -> None:
        """SIGTERM to every running child, SIGKILL to those still alive after `timeout`."""
        self._prober.close()
        self._terminate(list(self._children), timeout)

    def log_tail(self, name: str, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines the child wrote since its latest start."""
        path = self.log_path(name)
        if not path.exists():
            return ""
        with path.open("rb") as handle:
            handle.seek(self._child(name).log_offset)
            text = handle.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def failure_report(self, name: str, what: str) -> str:
        """'<name> <what>' followed by the last lines of its log, for error messages."""
        tail = self.log_tail(name)
        shown = "\n".join(f"  | {line}" for line in tail.splitlines()) or "  | (empty)"
        process = self._child(name).process
        pid = f" (pid {process.pid})" if process is not None else ""
        return (
            f"{name}{pid} {what}.\nLast {LOG_TAIL_LINES} lines of {self.log_path(name)}:\n{shown}"
        )

    def _child(self, name: str) -> _Child:
        try:
            return self._children[name]
        except KeyError:
            known = ", ".join(self._children)
            raise KeyError(f"no child named {name!r} (known: {known})") from None

    def _spawn(self, name: str) -> None:
        child = self._child(name)
        if child.process is not None and child.process.poll() is None:
            raise ChildError(name, f"{name} is already running (pid {child.process.pid})")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_path(name)
        with path.open("ab") as log:
            child.log_offset = log.tell()
            started = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"# {started} starting {name}: {' '.join(child.spec.argv)}\n".encode())
            log.flush()
            try:
                child.process = subprocess.Popen(
                    [*ORPHAN_GUARD, str(os.getpid()), *child.spec.argv],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ChildError(name, f"{name} could not be started: {exc}") from exc
        child.stopping = False
        child.last_probe = "not probed yet"

    def _wait_healthy(
        self, names: list[str], timeout: float, cancel: threading.Event | None
    ) -> None:
        deadline = time.monotonic() + timeout
        stop = cancel or threading.Event()
        pending = list(names)
        while pending:
            for name in list(pending):
                child = self._children[name]
                assert child.process is not None
                returncode = child.process.poll()
                if returncode is not None:
                    raise ChildError(
                        name,
                        self.failure_report(
                            name, f"{describe_exit(returncode)} before becoming healthy"
                        ),
                    )
                healthy, child.last_probe = self._prober.check(child.spec.health, child.process.pid)
                if healthy:
                    pending.remove(name)
            if not pending:
                return
            if time.monotonic() >= deadline:
                name = pending[0]
                probe = self._children[name]
                raise ChildError(
                    name,
                    self.failure_report(
                        name,
                        f"was not healthy after {timeout:g} s "
                        f"({probe.spec.health.describe()}: {probe.last_probe})",
                    ),
                )
            if stop.wait(POLL_SECONDS):
                raise StartInterrupted("start-up interrupted before every child was healthy")

    def _terminate(self, names: list[str], timeout: float) -> None:
        alive: list[subprocess.Popen[bytes]] = []
        for name in names:
            child = self._child(name)
            child.stopping = True
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                alive.append(child.process)
        deadline = time.monotonic() + timeout
        for process in alive:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], signum: signal.Signals) -> None:
        """Signals the process group this child leads, while the child is not yet reaped.

        Only then is its PID (= its group id) sure to still be ours.
        """
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass


def _probe_host(host: str) -> str:
    """A host to reach a server bound to `host` (wildcard binds are reached on loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def gateway_url(settings: Settings) -> str:
    """The gateway's base URL as seen from this machine."""
    return f"http://{_probe_host(settings.gateway_host)}:{settings.gateway_port}"


def ui_url(settings: Settings) -> str:
    """The UI's base URL as seen from this machine."""
    return f"http://{_probe_host(settings.ui_host)}:{settings.ui_port}"


def embedded_redis_url(settings: Settings) -> str:
    """The URL of the redis-server `depictio up` starts when DEPICTIO_REDIS_URL is empty."""
    return f"redis://127.0.0.1:{settings.embedded_redis_port}/0"


def embedded_redis_child(settings: Settings) -> ChildSpec:
    """A private redis-server (query cache; memory-bounded, LRU) started before the services."""
    workdir = settings.data_dir / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    argv = redis_server_argv(
        settings.embedded_redis_port, workdir, settings.embedded_redis_max_memory_mb
    )
    return ChildSpec("redis", argv, RedisHealth(embedded_redis_url(settings)), 0)


def worker_child(settings: Settings) -> ChildSpec:
    """One Celery worker (`python -m worker`), started once Redis and the services are up."""
    return ChildSpec(
        "worker", [sys.executable, "-m", "worker"], WorkerHealth(settings.redis_url), 2
    )


def default_children(settings: Settings) -> list[ChildSpec]:
    """auth_svc first; then metadata_svc, data_svc, the gateway and the UI."""
    python = sys.executable
    return [
        ChildSpec("auth_svc", [python, "-m", "auth_svc"], GrpcHealth(settings.auth_addr), 0),
        ChildSpec(
            "metadata_svc", [python, "-m", "metadata_svc"], GrpcHealth(settings.metadata_addr), 1
        ),
        ChildSpec("data_svc", [python, "-m", "data_svc"], GrpcHealth(settings.data_addr), 1),
        ChildSpec(
            "gateway",
            [python, "-m", "gateway"],
            HttpHealth(f"{gateway_url(settings)}/healthz"),
            1,
        ),
        ChildSpec(
            "dash_apps", [python, "-m", "dash_apps"], HttpHealth(f"{ui_url(settings)}/healthz"), 1
        ),
    ]
