"""ProcessGroup: start-up by stages, health probes, clear failures, stopping by PID."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import free_port

from depictio.cli.probes import GrpcHealth, HttpHealth
from depictio.cli.supervisor import (
    ChildError,
    ChildSpec,
    ProcessGroup,
    StartInterrupted,
    describe_exit,
)

pytestmark = pytest.mark.timeout(120)

GRPC_CHILD = """
import asyncio, sys
from depictio.logs import configure_logging
from depictio.rpc.server import ServiceSpec, serve
configure_logging("tiny")
asyncio.run(serve(ServiceSpec("tiny", sys.argv[1], [], lambda server: None, grace_seconds=0)))
"""
HTTP_CHILD = """
import http.server, signal, sys
if sys.argv[2] == "ignore-sigterm":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)\\
    .serve_forever()
"""
FAILING_CHILD = """
import sys
print("cannot open the frobnicator", file=sys.stderr)
sys.exit(3)
"""
SLEEPING_CHILD = "import time; time.sleep(600)"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def scripts(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, source in {
        "grpc": GRPC_CHILD,
        "http": HTTP_CHILD,
        "fail": FAILING_CHILD,
        "sleep": SLEEPING_CHILD,
    }.items():
        paths[name] = tmp_path / f"{name}_child.py"
        paths[name].write_text(textwrap.dedent(source))
    return paths


@pytest.fixture
def make_group(tmp_path: Path) -> Iterator[Callable[[list[ChildSpec]], ProcessGroup]]:
    """Makes ProcessGroups logging under tmp_path; every one is stopped when the test ends."""
    groups: list[ProcessGroup] = []

    def make(children: list[ChildSpec]) -> ProcessGroup:
        group = ProcessGroup(children, dict(os.environ), tmp_path / "logs")
        groups.append(group)
        return group

    yield make
    for group in groups:
        group.stop_all(timeout=2)


def grpc_child(scripts: dict[str, Path], name: str, stage: int = 0) -> ChildSpec:
    address = f"127.0.0.1:{free_port()}"
    return ChildSpec(
        name, [sys.executable, str(scripts["grpc"]), address], GrpcHealth(address), stage
    )


def http_child(
    scripts: dict[str, Path], name: str, stage: int = 0, mode: str = "normal"
) -> ChildSpec:
    port = free_port()
    argv = [sys.executable, str(scripts["http"]), str(port), mode]
    return ChildSpec(name, argv, HttpHealth(f"http://127.0.0.1:{port}/"), stage)


def test_describe_exit_names_codes_and_signals() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-9) == "killed by signal SIGKILL (9)"
    assert describe_exit(-15) == "killed by signal SIGTERM (15)"


def test_start_all_waits_for_health_and_stop_all_ends_every_child(
    make_group, scripts: dict[str, Path]
) -> None:
    group = make_group([grpc_child(scripts, "rpc"), http_child(scripts, "web", stage=1)])
    group.start_all(timeout=30)
    pids = group.pids()
    assert set(pids) == {"rpc", "web"}
    assert all(alive(pid) for pid in pids.values())
    assert group.poll_dead() == []
    assert "serving" in group.log_text("web")
    assert "listening" in group.log_text("rpc")

    group.stop_all()
    assert not any(alive(pid) for pid in pids.values())
    assert group.poll_dead() == []


def test_a_child_that_exits_at_start_is_named_with_its_code_and_log(
    make_group, scripts: dict[str, Path]
) -> None:
    healthy = http_child(scripts, "web")
    failing = ChildSpec(
        "frobnicator", [sys.executable, str(scripts["fail"])], GrpcHealth("127.0.0.1:1"), 1
    )
    group = make_group([healthy, failing])
    with pytest.raises(ChildError) as caught:
        group.start_all(timeout=30)
    message = str(caught.value)
    assert caught.value.name == "frobnicator"
    assert "frobnicator" in message
    assert "exited with code 3 before becoming healthy" in message
    assert "cannot open the frobnicator" in message
    web_pid = group.pid("web")
    assert web_pid is not None and not alive(web_pid), "the healthy sibling was not stopped"


def test_a_child_never_healthy_times_out_with_what_the_probe_saw(
    make_group, scripts: dict[str, Path]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    sleeper = ChildSpec("sleeper", [sys.executable, str(scripts["sleep"])], GrpcHealth(address))
    group = make_group([sleeper])
    started = time.monotonic()
    with pytest.raises(ChildError) as caught:
        group.start_all(timeout=2)
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert "sleeper" in message and "was not healthy after 2 s" in message
    assert f"gRPC health at {address}: UNAVAILABLE" in message
    pid = group.pid("sleeper")
    assert pid is not None and not alive(pid)


def test_stop_all_kills_a_child_that_ignores_sigterm(make_group, scripts: dict[str, Path]) -> None:
    group = make_group([http_child(scripts, "stubborn", mode="ignore-sigterm")])
    group.start_all(timeout=30)
    pid = group.pid("stubborn")
    assert pid is not None
    started = time.monotonic()
    group.stop_all(timeout=1)
    assert time.monotonic() - started < 5
    assert not alive(pid)
    assert group.stop("stubborn") == -signal.SIGKILL


def test_poll_dead_reports_a_child_killed_from_outside_and_start_restarts_it(
    make_group, scripts: dict[str, Path]
) -> None:
    group = make_group([grpc_child(scripts, "rpc"), http_child(scripts, "web")])
    group.start_all(timeout=30)
    first_pid = group.pid("rpc")
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not group.poll_dead() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group.poll_dead() == [("rpc", -signal.SIGKILL)]

    group.start("rpc")
    assert group.poll_dead() == []
    assert group.pid("rpc") != first_pid and group.running("rpc")
    assert group.log_text("rpc").count("starting rpc") == 2


def test_kill_is_an_expected_death(make_group, scripts: dict[str, Path]) -> None:
    group = make_group([http_child(scripts, "web")])
    group.start_all(timeout=30)
    pid = group.pid("web")
    assert group.kill("web") == -signal.SIGKILL
    assert pid is not None and not alive(pid)
    assert group.poll_dead() == []
    assert not group.running("web")


def test_start_all_stops_what_it_started_when_cancelled(
    make_group, scripts: dict[str, Path]
) -> None:
    sleeper = ChildSpec(
        "sleeper", [sys.executable, str(scripts["sleep"])], GrpcHealth(f"127.0.0.1:{free_port()}")
    )
    group = make_group([sleeper])
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(StartInterrupted):
        group.start_all(timeout=30, cancel=cancel)
    pid = group.pid("sleeper")
    assert pid is not None and not alive(pid)


def test_unknown_and_duplicate_names_are_refused(make_group, scripts: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="two children are named 'web'"):
        make_group([http_child(scripts, "web"), http_child(scripts, "web")])
    group = make_group([http_child(scripts, "web")])
    with pytest.raises(KeyError, match="no child named 'nope'"):
        group.stop("nope")
