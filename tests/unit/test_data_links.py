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


def test_sample_mapping_and_pattern_translate_values() -> None:
    mapped = LinkSpec("samples", "sample", "metrics", "sample", "sample_mapping", {"s3": ("s1",)})
    node = effective_filter("metrics", {"samples": equals("tissue", "skin")}, [mapped], values_of)
    assert sorted(rows_of("metrics", node)["reads"]) == [10, 50]
    patterned = LinkSpec("samples", "sample", "runs", "run", "pattern", pattern="{sample}_R1")
    assert patterned.translate(["s2", "s1"], list) == ["s1_R1", "s2_R1"]


FILES = pd.DataFrame(
    {
        "file": ["s1_R1.fq", "s1_R2.fq", "s2_R1.fq", "s10_R1.fq", "s3.bam", "xs1_R1.fq"],
        "size": [1, 2, 3, 4, 5, 6],
    }
)


@pytest.mark.parametrize(
    ("resolver", "pattern"),
    [("regex", r"{sample}_R[12]\.fq"), ("wildcard", "{sample}_R?.fq")],
)
def test_regex_and_wildcard_links_match_the_target_values(resolver: str, pattern: str) -> None:
    TABLES["files"] = FILES
    try:
        link = LinkSpec("samples", "sample", "files", "file", resolver, pattern=pattern)
        node = effective_filter("files", {"samples": equals("tissue", "gut")}, [link], values_of)
        got = sorted(rows_of("files", node)["file"])
    finally:
        del TABLES["files"]
    gut = SAMPLES[SAMPLES["tissue"] == "gut"]["sample"]
    # Independently: a file belongs to a gut sample when it is "<sample>_R<digit>.fq".
    expected = sorted(
        f for f in FILES["file"] if any(f in (f"{g}_R1.fq", f"{g}_R2.fq") for g in gut)
    )
    assert got == expected == ["s1_R1.fq", "s1_R2.fq", "s2_R1.fq"]


def test_links_without_a_sample_placeholder_or_with_a_broken_regex_are_refused() -> None:
    for resolver, pattern in (("regex", "R1"), ("wildcard", ""), ("pattern", "x")):
        link = LinkSpec("samples", "sample", "metrics", "sample", resolver, pattern=pattern)
        with pytest.raises(FailedPrecondition, match="needs a pattern with {sample}"):
            effective_filter("metrics", {"samples": equals("tissue", "gut")}, [link], values_of)
    broken = LinkSpec("samples", "sample", "metrics", "sample", "regex", pattern="({sample}")
    with pytest.raises(FailedPrecondition, match="not a valid regular expression"):
        effective_filter("metrics", {"samples": equals("tissue", "gut")}, [broken], values_of)
    unknown = LinkSpec("samples", "sample", "metrics", "sample", "fuzzy")
    with pytest.raises(FailedPrecondition, match="resolver 'fuzzy' is not supported"):
        effective_filter("metrics", {"samples": equals("tissue", "gut")}, [unknown], values_of)


def schema_of(dc: str) -> dict[str, pl.DataType]:
    return dict(pl.from_pandas(TABLES[dc]).schema)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        (
            LinkSpec("samples", "sample", "metrics", "sample_id"),
            r"link samples.sample → metrics.sample_id: 'metrics' has no column 'sample_id' "
            r"\(it has reads, sample\)",
        ),
        (
            LinkSpec("samples", "sample", "genes", "reads_bucket"),
            r"link samples.sample → genes.reads_bucket: the values it carries do not fit "
            r"'genes''s column \(.*'reads_bucket' is Int64; a str value",
        ),
    ],
    ids=["missing target column", "text values for a number column"],
)
def test_a_link_its_target_cannot_take_is_named(link: LinkSpec, message: str) -> None:
    """Such links were refused as if the request's own filter were wrong ("filters.column:
    …"), not naming the link."""
    filters = {"samples": equals("tissue", "gut")}
    with pytest.raises(FailedPrecondition, match=message):
        effective_filter(link.target, filters, [link], values_of, schema_of=schema_of)
    # Without a filter to carry, the link is not used and nothing is refused.
    assert effective_filter(link.target, {}, [link], values_of, schema_of=schema_of) == (
        common_pb2.Filter()
    )
