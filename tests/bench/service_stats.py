"""What a benchmarked service process used, read from /proc and from its JSON log lines."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def reset_peak_rss(pid: int) -> None:
    """Restarts the process's peak resident set size from its current size."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, timeout_s: float = 120.0) -> None:
    """Returns once the process used under 5% of a core over a whole second."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            return
    raise AssertionError(f"process {pid} still busy after {timeout_s:.0f} s")


def rpc_durations(log: str, method: str, skip_lines: int = 0) -> list[float]:
    """Durations (ms) of the `method` RPCs a service logged after its first `skip_lines` lines."""
    durations = []
    for line in log.splitlines()[skip_lines:]:
        if method not in line or not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("method") == method:
            durations.append(float(entry["duration_ms"]))
    return durations


def machine(browser_version: str) -> str:
    """CPU model, cores, memory, Python and Chromium of this machine."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kib / 1024**2:.1f} GiB RAM, "
        f"Python {platform.python_version()}, Chromium {browser_version}"
    )
