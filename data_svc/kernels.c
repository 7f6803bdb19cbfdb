/*
 * Loops over a column that numpy and polars can only run as several passes, or not in
 * parallel threads: each reads its column once, and is called through ctypes, which lets go
 * of the GIL for the call (data_svc/kernels.py holds the Python side and the contracts).
 */
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The finite values' count, least and greatest (count 0: *low and *high untouched). */
int64_t finite_range(const double *values, int64_t n, double *low, double *high) {
    int64_t count = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        double v = values[k];
        if (!isfinite(v)) continue;
        count++;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (count) {
        *low = lo;
        *high = hi;
    }
    return count;
}

/*
 * numpy.histogram's equal-width bins, value for value: the bin guessed from
 * (v - first) * norm, then moved by comparing v with the edges (numpy's own correction);
 * values outside [edges[0], edges[bins]] (NaN and infinities among them) are left out.
 */
void histogram(const double *values, int64_t n, double first, double norm, const double *edges,
               int64_t bins, int64_t *counts) {
    double last = edges[bins];
    for (int64_t k = 0; k < n; k++) {
        double v = values[k];
        if (!(v >= first && v <= last)) continue;
        double guess = (v - first) * norm;
        /* In [0, bins] for any value within the edges; held there whatever the edges, so
         * that no count is written outside `counts`. */
        int64_t i = guess >= (double)bins ? bins - 1 : (guess > 0 ? (int64_t)guess : 0);
        if (i > 0 && v < edges[i]) i -= 1;
        if (i < bins - 1 && v >= edges[i + 1]) i += 1;
        counts[i] += 1;
    }
}

/* How many of 0..size-1 the codes hold (codes < size). */
int64_t distinct_codes(const uint32_t *codes, int64_t n, int64_t size, uint8_t *seen) {
    memset(seen, 0, (size_t)size);
    int64_t found = 0;
    for (int64_t k = 0; k < n; k++) {
        uint8_t *mark = seen + codes[k];
        found += !*mark;
        *mark = 1;
    }
    return found;
}

/*
 * Per group (codes < groups): its rows, and of its valid values (valid NULL: all) the count,
 * sum, least and greatest. Least and greatest pass over NaN unless a group holds nothing
 * else (as polars' min and max do); they stay NaN for a group without valid values.
 */
void grouped_float(const uint32_t *codes, const double *values, const uint8_t *valid, int64_t n,
                   int64_t *rows, int64_t *count, double *sum, double *low, double *high) {
    for (int64_t k = 0; k < n; k++) {
        uint32_t g = codes[k];
        rows[g]++;
        if (valid && !valid[k]) continue;
        double v = values[k];
        count[g]++;
        sum[g] += v;
        if (isnan(low[g]) || v < low[g]) low[g] = v;
        if (isnan(high[g]) || v > high[g]) high[g] = v;
    }
}

/* grouped_float for 64-bit integers: the sum wraps around as polars' does, and is also
 * kept as a float (for means); least and greatest start at the caller's values. */
void grouped_int(const uint32_t *codes, const int64_t *values, const uint8_t *valid, int64_t n,
                 int64_t *rows, int64_t *count, int64_t *sum, double *float_sum, int64_t *low,
                 int64_t *high) {
    for (int64_t k = 0; k < n; k++) {
        uint32_t g = codes[k];
        rows[g]++;
        if (valid && !valid[k]) continue;
        int64_t v = values[k];
        count[g]++;
        sum[g] = (int64_t)((uint64_t)sum[g] + (uint64_t)v);
        float_sum[g] += (double)v;
        if (v < low[g]) low[g] = v;
        if (v > high[g]) high[g] = v;
    }
}

/* A float's bits as an integer in the same order (negative floats count down as their bits
 * count up: all but the sign bit flipped). */
static inline int64_t ordered_bits(double v) {
    int64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits < 0 ? bits ^ INT64_C(0x7FFFFFFFFFFFFFFF) : bits;
}

/* Each value's bucket: its group's row of 2^bucket_bits buckets, and within it the offset of
 * its ordered bits from `low`, `shift` bits coarser; -1 when that falls outside the row. */
static inline int64_t bucket_of(double v, uint32_t group, int64_t low, int64_t shift,
                                int64_t bucket_bits) {
    uint64_t offset = ((uint64_t)ordered_bits(v) - (uint64_t)low) >> shift;
    if (offset >> bucket_bits) return -1;
    return ((int64_t)group << bucket_bits) + (int64_t)offset;
}

/* The count of values in each bucket (counts: groups << bucket_bits of them); -1 (counts
 * unfinished) at the first value whose bucket falls outside its group's row. */
int64_t bucket_counts(const double *values, const uint32_t *groups, int64_t n, int64_t low,
                      int64_t shift, int64_t bucket_bits, int64_t *counts) {
    for (int64_t k = 0; k < n; k++) {
        int64_t key = bucket_of(values[k], groups[k], low, shift, bucket_bits);
        if (key < 0) return -1;
        counts[key]++;
    }
    return 0;
}

/* The values whose bucket `keep` marks, with their buckets, in table order: how many (at
 * most `room`, the counts of the kept buckets), or -1 as bucket_counts. */
int64_t bucket_keep(const double *values, const uint32_t *groups, int64_t n, int64_t low,
                    int64_t shift, int64_t bucket_bits, const uint8_t *keep, int64_t room,
                    double *kept_values, int64_t *kept_keys) {
    int64_t found = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t key = bucket_of(values[k], groups[k], low, shift, bucket_bits);
        if (key < 0) return -1;
        if (!keep[key]) continue;
        if (found == room) return -1;
        kept_values[found] = values[k];
        kept_keys[found] = key;
        found++;
    }
    return found;
}

/* An importable module with nothing in it: the functions above are called through ctypes. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
