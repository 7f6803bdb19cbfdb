"""The in-memory LRU of decoded table versions: budget, eviction, one load per key."""

from __future__ import annotations

import threading
import time

import polars as pl

from data_svc.hot_tables import HotTables


def frame_of(rows: int) -> pl.DataFrame:
    return pl.DataFrame({"x": list(range(rows))}, schema={"x": pl.Int64})


def test_hit_returns_the_loaded_frame_without_loading_again() -> None:
    hot = HotTables(10_000)
    loads: list[int] = []

    def load() -> pl.DataFrame:
        loads.append(1)
        return frame_of(100)

    first = hot.get(("t", 1), 1, load)
    second = hot.get(("t", 1), 1, load)
    assert first is not None and second is not None
    assert second.equals(frame_of(100))
    assert len(loads) == 1


def test_least_recently_used_is_evicted_to_stay_within_budget() -> None:
    hot = HotTables(2 * 800)  # two frames of 100 Int64 rows (800 bytes each)
    hot.get(("t", 1), 1, lambda: frame_of(100))
    hot.get(("t", 2), 1, lambda: frame_of(100))
    hot.get(("t", 1), 1, lambda: frame_of(100))  # touch 1: 2 is now the oldest
    hot.get(("t", 3), 1, lambda: frame_of(100))
    assert hot.used_bytes <= 1600
    reloaded: list[tuple[str, int]] = []
    for key in (("t", 1), ("t", 3), ("t", 2)):

        def load(key: tuple[str, int] = key) -> pl.DataFrame:
            reloaded.append(key)
            return frame_of(100)

        hot.get(key, 1, load)
    assert reloaded == [("t", 2)]


def test_versions_larger_than_the_budget_are_not_kept() -> None:
    hot = HotTables(100)
    assert hot.get(("t", 1), 1, lambda: frame_of(1000)) is None
    assert hot.used_bytes == 0
    # Stored size alone above the budget: not even loaded.
    assert hot.get(("t", 2), 101, lambda: (_ for _ in ()).throw(AssertionError("loaded"))) is None
    # Found too large once decoded: not loaded again (each request decoded it whole, to drop
    # it and read storage anyway).
    assert hot.get(("t", 1), 1, lambda: (_ for _ in ()).throw(AssertionError("again"))) is None


def test_concurrent_misses_load_once() -> None:
    hot = HotTables(1_000_000)
    loads: list[int] = []

    def slow_load() -> pl.DataFrame:
        loads.append(1)
        time.sleep(0.2)
        return frame_of(10)

    results: list[pl.DataFrame | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(hot.get(("t", 1), 1, slow_load)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
    assert all(result is not None and result.equals(frame_of(10)) for result in results)


def test_a_loaded_version_is_kept_in_one_chunk_per_column() -> None:
    hot = HotTables(1_000_000)
    parts = [pl.DataFrame({"x": [i, i + 1], "s": [f"a{i}", None]}) for i in range(0, 20, 2)]
    chunked = pl.concat(parts, rechunk=False)
    assert chunked.n_chunks("all") == [10, 10]
    kept = hot.get(("t", 1), 1, lambda: pl.concat(parts, rechunk=False))
    assert kept is not None and kept.n_chunks("all") == [1, 1]
    assert kept.equals(chunked) and kept.schema == chunked.schema
