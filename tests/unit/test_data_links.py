"""Filters reaching other data collections through links: translation, hops, cycles."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from data_svc.links import LinkSpec, effective_filter
from data_svc.query_engine import distinct_values, filtered
from depictio.errors import FailedPrecondition
from depictio.filters import in_filter, python_to_value
from depictio.v1 import common_pb2

SAMPLES = pd.DataFrame(
    {"sample": ["s1", "s2", "s3", "s4"], "tissue": ["gut", "gut", "skin", "liver"]}
)
METRICS = pd.DataFrame({"sample": ["s1", "s2", "s3", "s4", "s1"], "reads": [10, 20, 30, 40, 50]})
GENES = pd.DataFrame({"reads_bucket": [10, 20, 30, 40, 50, 60], "gene": list("abcdef")})
TABLES = {"samples": SAMPLES, "metrics": METRICS, "genes": GENES}


def values_of(dc: str, column: str, node: common_pb2.Filter) -> list[object]:
    return distinct_values(pl.from_pandas(TABLES[dc]).lazy(), node, column, dc)


def rows_of(dc: str, node: common_pb2.Filter) -> pd.DataFrame:
    frame = pl.from_pandas(TABLES[dc]).lazy()
    return filtered(frame, node, set(TABLES[dc].columns), dc).collect().to_pandas()


def equals(column: str, value: object) -> common_pb2.Filter:
    predicate = common_pb2.ColumnPredicate(column=column, equals=python_to_value(value))
    return common_pb2.Filter(column=predicate)


LINKS = [
    LinkSpec("samples", "sample", "metrics", "sample"),
    LinkSpec("metrics", "reads", "genes", "reads_bucket"),
]


def test_a_filter_reaches_a_linked_table_as_an_in_filter() -> None:
    node = effective_filter("metrics", {"samples": equals("tissue", "gut")}, LINKS, values_of)
    expected = METRICS[METRICS["sample"].isin(SAMPLES[SAMPLES["tissue"] == "gut"]["sample"])]
    assert sorted(rows_of("metrics", node)["reads"]) == sorted(expected["reads"])


def test_filters_combine_with_the_target_own_filter_over_two_hops() -> None:
    filters = {"samples": equals("tissue", "gut"), "genes": equals("gene", "a")}
    node = effective_filter("genes", filters, LINKS, values_of)
    gut = SAMPLES[SAMPLES["tissue"] == "gut"]["sample"]
    reads = METRICS[METRICS["sample"].isin(gut)]["reads"]
    expected = GENES[GENES["reads_bucket"].isin(reads) & (GENES["gene"] == "a")]
    assert rows_of("genes", node)["gene"].tolist() == expected["gene"].tolist() == ["a"]


def test_links_stop_after_three_hops_and_cycles_end() -> None:
    chain = [LinkSpec(f"t{i}", "k", f"t{i + 1}", "k") for i in range(4)]
    chain.append(LinkSpec("t4", "k", "t0", "k"))  # a cycle back to the start
    asked: list[str] = []

    def record(dc: str, column: str, node: common_pb2.Filter) -> list[object]:
        asked.append(dc)
        return [1]

    reached = effective_filter("t3", {"t0": in_filter("k", [1])}, chain, record)
    assert "t0" in asked  # t0 → t1 → t2 → t3: three hops
    asked.clear()
    unreached = effective_filter("t4", {"t0": in_filter("k", [1])}, chain, record)
    assert asked == [] and unreached.WhichOneof("kind") is None  # four hops: out of reach
    assert reached.WhichOneof("kind") is not None


def test_unfiltered_sources_cost_nothing() -> None:
    def refuse(dc: str, column: str, node: common_pb2.Filter) -> list[object]:
        raise AssertionError("no values should be asked for")

    node = effective_filter("metrics", {"metrics": equals("reads", 10)}, LINKS, refuse)
    assert rows_of("metrics", node)["reads"].tolist() == [10]


def test_sample_mapping_translates_values_and_unknown_resolvers_are_refused() -> None:
    mapped = LinkSpec("samples", "sample", "metrics", "sample", "sample_mapping", {"s3": ("s1",)})
    node = effective_filter("metrics", {"samples": equals("tissue", "skin")}, [mapped], values_of)
    assert sorted(rows_of("metrics", node)["reads"]) == [10, 50]
    patterned = LinkSpec("samples", "sample", "runs", "run", "pattern", pattern="{sample}_R1")
    assert patterned.translate(["s2", "s1"]) == ["s1_R1", "s2_R1"]
    regex = LinkSpec("samples", "sample", "metrics", "sample", "regex")
    with pytest.raises(FailedPrecondition, match="resolver 'regex' is not supported"):
        effective_filter("metrics", {"samples": equals("tissue", "gut")}, [regex], values_of)
