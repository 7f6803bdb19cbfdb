"""Recently read table versions kept decoded in memory, least recently used first out.

A Delta version never changes, so (table URI and id, version) names its content for good (see
DeltaTables.table_id): queries and scans of a hot version skip storage and Parquet decoding
entirely. The versions of a deleted table leave as any other, least recently used first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import polars as pl

TableKey = tuple[str, int]


def contiguous(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in one chunk per column, rechunked a column at a time: at most one column is
    held twice at once (rechunking the whole frame would hold all of it twice)."""
    if frame.n_chunks("all") == [1] * frame.width:
        return frame
    columns = []
    for name in frame.columns:
        columns.append(frame.get_column(name).rechunk())
        frame = frame.drop(name)
    return pl.DataFrame(columns)


# How many versions too large for the budget are remembered as such.
TOO_LARGE_REMEMBERED = 1_000


class HotTables:
    """Decoded table versions within a memory budget (`max_bytes`)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._frames: OrderedDict[TableKey, pl.DataFrame] = OrderedDict()
        self._sizes: dict[TableKey, int] = {}
        self._guard = threading.Lock()
        self._loading: dict[TableKey, threading.Lock] = {}
        # Versions found larger than the budget once decoded (the most recent ones): not
        # loaded again on every request only to be dropped.
        self._too_large: OrderedDict[TableKey, None] = OrderedDict()

    @property
    def used_bytes(self) -> int:
        with self._guard:
            return sum(self._sizes.values())

    def get(
        self, key: TableKey, stored_bytes: int, load: Callable[[], pl.DataFrame]
    ) -> pl.DataFrame | None:
        """The decoded version `key`, loaded with `load` on a miss; None when it does not fit.

        `stored_bytes` (its compressed size in storage) is a lower bound of its decoded size:
        a version larger than the budget is not even loaded. Concurrent misses of one key load
        it once; the others wait for that load.
        """
        found = self._lookup(key)
        if found is not None or not 0 < stored_bytes <= self.max_bytes:
            return found
        with self._guard:
            if key in self._too_large:
                return None
        with self._guard:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            found = self._lookup(key)
            if found is not None:
                return found
            frame = contiguous(load())
            self._store(key, frame)
        with self._guard:
            self._loading.pop(key, None)
        return frame if frame.estimated_size() <= self.max_bytes else None

    def _lookup(self, key: TableKey) -> pl.DataFrame | None:
        with self._guard:
            frame = self._frames.get(key)
            if frame is not None:
                self._frames.move_to_end(key)
            return frame

    def _store(self, key: TableKey, frame: pl.DataFrame) -> None:
        size = int(frame.estimated_size())
        if size > self.max_bytes:
            with self._guard:
                self._too_large[key] = None
                while len(self._too_large) > TOO_LARGE_REMEMBERED:
                    self._too_large.popitem(last=False)
            return
        with self._guard:
            while self._frames and sum(self._sizes.values()) + size > self.max_bytes:
                evicted, _ = self._frames.popitem(last=False)
                del self._sizes[evicted]
            self._frames[key] = frame
            self._sizes[key] = size
