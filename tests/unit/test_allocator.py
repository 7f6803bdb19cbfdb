"""data_svc's and the gateway's malloc reuses freed megabyte blocks instead of mapping a fresh
one for each message (see depictio.allocator). Checked in fresh interpreters, by the count of
blocks glibc serves with mmap() while a 2 MiB buffer is alive."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys
FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
          "fordblks", "keepcost")
class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in FIELDS]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "tuned":
    from depictio.allocator import reuse_large_blocks
    assert reuse_large_blocks()
before = libc.mallinfo2().hblks
message = bytearray(2 * 1024 * 1024)
print(libc.mallinfo2().hblks - before)
"""

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc tuning (Linux only)"
)


def mapped_blocks_for_a_message(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=60
    )
    return int(done.stdout.strip())


def test_a_tuned_process_serves_a_2_mib_buffer_from_the_heap() -> None:
    assert mapped_blocks_for_a_message("tuned") == 0


def test_an_untuned_process_maps_it_on_its_own() -> None:
    # The default this module changes: without it the buffer gets an mmap() of its own.
    assert mapped_blocks_for_a_message("default") == 1
