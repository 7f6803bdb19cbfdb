"""The C loops of kernels.c, called through ctypes on numpy arrays.

Each reads its column once, where numpy needs a pass per operation and a temporary array
per pass (numpy.histogram: about 15 passes; a grouped count, sum, min and max: a bincount or
ufunc.at per statistic, holding the GIL), and polars hashes a categorical's codes to group
them. ctypes releases the GIL for the call: the loops run side by side in the query
planner's threads.
"""

from __future__ import annotations

import ctypes
import importlib.util
from dataclasses import dataclass

import numpy as np


def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("data_svc._kernels")
    if spec is None or spec.origin is None:
        raise ImportError("data_svc._kernels is not built: run `make install`")
    library = ctypes.CDLL(spec.origin)
    pointer, size = ctypes.c_void_p, ctypes.c_int64
    library.finite_range.argtypes = [pointer, size, pointer, pointer]
    library.finite_range.restype = size
    library.histogram.argtypes = [
        pointer, size, ctypes.c_double, ctypes.c_double, pointer, size, pointer
    ]  # fmt: skip
    library.histogram.restype = None
    library.distinct_codes.argtypes = [pointer, size, size, pointer]
    library.distinct_codes.restype = size
    library.grouped_float.argtypes = [pointer] * 3 + [size] + [pointer] * 5
    library.grouped_float.restype = None
    library.grouped_int.argtypes = [pointer] * 3 + [size] + [pointer] * 6
    library.grouped_int.restype = None
    library.bucket_counts.argtypes = [pointer, pointer, size, size, size, size, pointer]
    library.bucket_counts.restype = size
    library.bucket_keep.argtypes = [pointer, pointer] + [size] * 4 + [pointer, size] + [pointer] * 2
    library.bucket_keep.restype = size
    return library


_kernels = _library()


def _address(array: np.ndarray | None) -> int | None:
    return None if array is None else int(array.ctypes.data)


def _checked(array: np.ndarray, dtype: type, name: str) -> np.ndarray:
    """`array` in one contiguous piece (copied if it is not), refused unless of `dtype`."""
    if array.dtype != dtype:
        raise TypeError(f"{name}: expected a {np.dtype(dtype)} array, got {array.dtype}")
    return np.ascontiguousarray(array)


def _codes_below(codes: np.ndarray, size: int) -> np.ndarray:
    """`codes` checked (uint32, each below `size`): the loops index arrays of `size` by them."""
    codes = _checked(codes, np.uint32, "codes")
    if codes.size and int(codes.max()) >= size:
        raise ValueError(f"codes: expected each below {size}, got {int(codes.max())}")
    return codes


def finite_range(values: np.ndarray) -> tuple[int, float, float]:
    """The count of the finite float64 `values`, their least and greatest (NaN, NaN: none)."""
    values = _checked(values, np.float64, "values")
    low, high = ctypes.c_double(np.nan), ctypes.c_double(np.nan)
    count = _kernels.finite_range(
        _address(values), values.size, ctypes.byref(low), ctypes.byref(high)
    )
    return int(count), low.value, high.value


def histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The count of float64 `values` in each bin of equal-width `edges` (from numpy.linspace),
    as numpy.histogram(values, edges) counts them; values outside the edges are left out."""
    values = _checked(values, np.float64, "values")
    edges = _checked(edges, np.float64, "edges")
    bins = edges.size - 1
    first, last = float(edges[0]), float(edges[-1])
    counts = np.zeros(bins, dtype=np.int64)
    _kernels.histogram(
        _address(values),
        values.size,
        first,
        bins / (last - first),  # numpy's norm, computed as numpy computes it
        _address(edges),
        bins,
        _address(counts),
    )
    return counts


def distinct_codes(codes: np.ndarray, size: int) -> int:
    """How many distinct values the uint32 `codes` (each below `size`) hold."""
    codes = _codes_below(codes, size)
    seen = np.empty(max(size, 1), dtype=np.uint8)
    return int(_kernels.distinct_codes(_address(codes), codes.size, size, _address(seen)))


@dataclass
class GroupStats:
    """Per group: its rows; of its valid values the count, sum, least and greatest (float:
    NaN, integer: the type's extremes, for a group without valid values); and for integers,
    the sum as a float too."""

    rows: np.ndarray
    count: np.ndarray
    sum: np.ndarray
    low: np.ndarray
    high: np.ndarray
    float_sum: np.ndarray


def grouped(
    codes: np.ndarray, values: np.ndarray, valid: np.ndarray | None, groups: int
) -> GroupStats:
    """The statistics of float64 or int64 `values` in each of `groups` groups, a group per
    uint32 code (each below `groups`); `valid` (bool, or None for all) marks the values
    that count."""
    codes = _codes_below(codes, groups)
    if valid is not None:
        valid = _checked(valid, np.bool_, "valid")
    rows = np.zeros(groups, dtype=np.int64)
    count = np.zeros(groups, dtype=np.int64)
    if values.dtype == np.float64:
        values = _checked(values, np.float64, "values")
        total = np.zeros(groups)
        low, high = np.full(groups, np.nan), np.full(groups, np.nan)
        _kernels.grouped_float(
            *map(_address, (codes, values, valid)),
            codes.size,
            *map(_address, (rows, count, total, low, high)),
        )
        return GroupStats(rows, count, total, low, high, total)
    values = _checked(values, np.int64, "values")
    total = np.zeros(groups, dtype=np.int64)
    float_total = np.zeros(groups)
    limits = np.iinfo(np.int64)
    low = np.full(groups, limits.max, dtype=np.int64)
    high = np.full(groups, limits.min, dtype=np.int64)
    _kernels.grouped_int(
        *map(_address, (codes, values, valid)),
        codes.size,
        *map(_address, (rows, count, total, float_total, low, high)),
    )
    return GroupStats(rows, count, total, low, high, float_total)


@dataclass
class Buckets:
    """Float64 `values` cut into buckets: each value's group (a uint32 code below `groups`)
    has a row of 2^`bits` buckets, and its bucket in the row is the offset of its ordered bits
    (kernels.c) from `low`, `shift` bits coarser — every offset below 2^`bits`."""

    values: np.ndarray
    codes: np.ndarray
    groups: int
    low: int
    shift: int
    bits: int

    def __post_init__(self) -> None:
        self.values = _checked(self.values, np.float64, "values")
        self.codes = _codes_below(self.codes, self.groups)
        if self.values.size != self.codes.size:
            raise ValueError(f"values and codes: {self.values.size} and {self.codes.size} rows")

    def counts(self) -> np.ndarray:
        """The count of values in each bucket, buckets numbered group × 2^bits + offset."""
        counts = np.zeros(self.groups << self.bits, dtype=np.int64)
        status = _kernels.bucket_counts(
            _address(self.values), _address(self.codes), self.values.size,
            self.low, self.shift, self.bits, _address(counts),
        )  # fmt: skip
        self._check(status)
        return counts

    def kept(self, keep: np.ndarray, room: int) -> tuple[np.ndarray, np.ndarray]:
        """The buckets' numbers and values of the values whose bucket `keep` (bool, one per
        bucket) marks, in table order; `room`: how many they are (from `counts`)."""
        keep = _checked(keep, np.bool_, "keep")
        if keep.size != self.groups << self.bits:
            raise ValueError(f"keep: expected {self.groups << self.bits} buckets, got {keep.size}")
        kept_values = np.empty(room, dtype=np.float64)
        kept_keys = np.empty(room, dtype=np.int64)
        found = _kernels.bucket_keep(
            _address(self.values), _address(self.codes), self.values.size,
            self.low, self.shift, self.bits, _address(keep), room,
            _address(kept_values), _address(kept_keys),
        )  # fmt: skip
        self._check(found)
        return kept_keys[:found], kept_values[:found]

    def _check(self, status: int) -> None:
        if status < 0:
            raise ValueError(
                f"values: a bucket past 2^{self.bits} from low={self.low} shift={self.shift}, "
                "or more values kept than room for"
            )
