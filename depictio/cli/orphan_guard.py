"""Runs a command that dies with its supervisor: `python -m depictio.cli.orphan_guard PID CMD…`.

The supervisor cannot set the parent-death signal itself: a `preexec_fn` makes subprocess use
fork() instead of vfork(), which runs gRPC's at-fork handlers in a process with live gRPC
threads and can abort the child. This wrapper sets it in its own process, then becomes CMD
(the setting survives exec).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.stderr.write("usage: python -m depictio.cli.orphan_guard SUPERVISOR_PID CMD [ARG…]\n")
        raise SystemExit(2)
    supervisor_pid, command = int(argv[0]), argv[1:]
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor_pid:
        raise SystemExit(f"supervisor {supervisor_pid} is gone; not starting {command[0]}")
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
