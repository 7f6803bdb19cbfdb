"""A service stops gracefully on SIGTERM: health goes NOT_SERVING, then the process exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from depictio.clients.base import check_health
from depictio.rpc.channels import close_channels

pytestmark = pytest.mark.timeout(60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(target: str) -> str:
    async def probe() -> str:
        try:
            return await check_health(target, timeout=1.0)
        finally:
            await close_channels()

    return asyncio.run(probe())


def test_sigterm_drains_and_exits_cleanly(tmp_path: Path) -> None:
    target = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "DEPICTIO_DATA_DIR": str(tmp_path),
        "DEPICTIO_AUTH_ADDR": target,
        "DEPICTIO_ADMIN_PASSWORD": "lifecycle-password",
        "DEPICTIO_SHUTDOWN_GRACE_SECONDS": "2",
    }
    log_path = tmp_path / "auth_svc.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "auth_svc"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 20
        while health(target) != "SERVING":
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "auth_svc did not become healthy"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    messages = [json.loads(line)["message"] for line in log_path.read_text().splitlines()]
    assert messages.index("shutting down") < messages.index("stopped")
    assert not (tmp_path / "initial-admin.json").exists()  # the password was given, not generated
