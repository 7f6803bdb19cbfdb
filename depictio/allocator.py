"""glibc malloc tuned for services that move megabyte-sized messages.

By default glibc serves every allocation above a threshold (128 KiB at start, raised as large
blocks are freed) with its own mmap(), and gives it back with munmap() when freed. A service
streaming 1 MiB gRPC messages then maps, faults in page by page and unmaps a fresh megabyte for
each message, in the Python bytes that frame it and again in gRPC's buffers: on a Scan of
366 MB that was a fifth of data_svc's CPU time. With blocks up to LARGE_BLOCK_BYTES served
from malloc's heaps, a freed message's memory is reused by the next one; at most
KEEP_FREE_BYTES of free memory stays at the top of a heap before it is returned to the system.

Arrow and polars buffers are not concerned: they come from their own allocators.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# mallopt() parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
LARGE_BLOCK_BYTES = 4 * 1024 * 1024
KEEP_FREE_BYTES = 32 * 1024 * 1024


def reuse_large_blocks() -> bool:
    """Makes malloc reuse freed blocks up to LARGE_BLOCK_BYTES instead of unmapping them.

    True when applied; False where the C library is not glibc (nothing changes there).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: its C library's
    except (OSError, AttributeError):
        log.debug("malloc left as it is: the C library has no mallopt")
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(
        mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) and mallopt(M_TRIM_THRESHOLD, KEEP_FREE_BYTES)
    )
