"""The dashboard benchmark's data and dashboards: three linked tables and 4/8/16-component views.

The tables are shaped like the reference product's own dashboard benchmark: `metadata`
(500 samples), `metrics` (16 metrics per sample, 8,000 rows) and `features` (24,022 features
per sample, 12,011,000 rows), linked on `sample_id`. They are generated once (seeded) into
Parquet files under `.depictio/bench-dashboard/` and reused by later runs.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

# Bump when the generator changes: files cached by an older generator are then ignored.
DATA_VERSION = 1
CACHE = Path(__file__).resolve().parents[2] / ".depictio" / "bench-dashboard"
SAMPLES = 500
FEATURES_PER_SAMPLE = 24_022
METRIC_NAMES = [
    "reads_total",
    "reads_mapped_pct",
    "duplication_pct",
    "gc_pct",
    "insert_size",
    "q30_pct",
    "adapter_pct",
    "chimera_pct",
    "shannon",
    "simpson",
    "richness",
    "evenness",
    "host_pct",
    "unclassified_pct",
    "contamination_pct",
    "coverage",
]
BATCHES = [f"B{b:02d}" for b in range(1, 26)]
CATEGORIES = [f"phylum_{c:02d}" for c in range(12)]
PROJECT_NAME = "Dashboard benchmark"
FILTER_ID = "batch_filter"

PROJECT = """\
name: "{name}"
project_type: "basic"
description: "Generated data shaped like the reference product's dashboard benchmark"
data_collections:
{collections}links:
{links}"""
COLLECTION = """\
  - data_collection_tag: "{tag}"
    config:
      type: "Table"
      metatype: "{metatype}"
      scan: {{mode: "single", scan_parameters: {{filename: "{filename}"}}}}
      dc_specific_properties: {{format: "parquet"}}
"""
LINK = """\
  - source_dc_tag: "metadata"
    source_column: "sample_id"
    target_dc_tag: "{target}"
    target_type: "table"
    link_config: {{resolver: "direct", target_field: "sample_id"}}
"""


def parquet_path(tag: str) -> Path:
    return CACHE / f"{tag}-v{DATA_VERSION}.parquet"


def generate() -> None:
    """Writes the three tables as Parquet files in CACHE (seeded: the same every time)."""
    rng = np.random.default_rng(2024)
    samples = pl.Series("sample_id", [f"S{i:04d}" for i in range(SAMPLES)])
    # Batches of unequal sizes, as sequencing runs are; every batch holds samples.
    weights = rng.uniform(0.5, 1.5, len(BATCHES))
    batches = rng.choice(BATCHES, SAMPLES, p=weights / weights.sum())
    assert set(batches) == set(BATCHES)
    metadata = pl.DataFrame(
        {
            "sample_id": samples,
            "condition": rng.choice(["control", "low_dose", "high_dose", "recovery"], SAMPLES),
            "batch": batches,
            "site": rng.choice(["north", "south", "east", "west", "centre"], SAMPLES),
            "age_days": rng.integers(20, 400, SAMPLES),
            "depth_m": rng.gamma(2.0, 15.0, SAMPLES),
        }
    )
    metric_count = len(METRIC_NAMES)
    metrics = pl.DataFrame(
        {
            "sample_id": samples.gather(np.repeat(np.arange(SAMPLES), metric_count)),
            "metric": np.tile(METRIC_NAMES, SAMPLES),
            "value": rng.normal(np.tile(np.arange(metric_count) * 10.0, SAMPLES), 3.0),
        }
    )
    rows = SAMPLES * FEATURES_PER_SAMPLE
    feature_ids = pl.Series([f"F{j:05d}" for j in range(FEATURES_PER_SAMPLE)])
    feature_category = rng.integers(0, len(CATEGORIES), FEATURES_PER_SAMPLE)
    features = pl.DataFrame(
        {
            # One block of rows per sample: a pipeline's per-sample outputs, concatenated.
            "sample_id": samples.gather(np.repeat(np.arange(SAMPLES), FEATURES_PER_SAMPLE)),
            "feature_id": feature_ids.gather(np.tile(np.arange(FEATURES_PER_SAMPLE), SAMPLES)),
            "category": pl.Series(CATEGORIES).gather(np.tile(feature_category, SAMPLES)),
            "abundance": rng.lognormal(0.0, 1.5, rows),
            "count": rng.integers(0, 10_000, rows),
            "score": rng.normal(0.0, 1.0, rows),
        }
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    for tag, frame in (("metadata", metadata), ("metrics", metrics), ("features", features)):
        partial = parquet_path(tag).with_suffix(".partial")
        frame.write_parquet(partial, compression="zstd")
        partial.rename(parquet_path(tag))


def cached_project() -> Path:
    """The project.yaml next to the cached Parquet files (generated on the first run)."""
    if not all(parquet_path(tag).exists() for tag in ("metadata", "metrics", "features")):
        generate()
    collections = "".join(
        COLLECTION.format(tag=tag, metatype=metatype, filename=parquet_path(tag).name)
        for tag, metatype in (
            ("metadata", "Metadata"),
            ("metrics", "Aggregate"),
            ("features", "Aggregate"),
        )
    )
    links = "".join(LINK.format(target=target) for target in ("metrics", "features"))
    config = CACHE / f"project-v{DATA_VERSION}.yaml"
    config.write_text(PROJECT.format(name=PROJECT_NAME, collections=collections, links=links))
    return config


def _data(tag: str) -> dict[str, str]:
    return {"data_collection": tag}


def _card(cid: str, tag: str, column: str, aggregation: str, title: str) -> dict[str, Any]:
    return {
        "type": "card",
        "id": cid,
        "title": title,
        "data": _data(tag),
        "column": column,
        "aggregation": aggregation,
    }


def _figure(cid: str, tag: str, visu_type: str, title: str, **axes: Any) -> dict[str, Any]:
    return {
        "type": "figure",
        "id": cid,
        "title": title,
        "data": _data(tag),
        "visu_type": visu_type,
        **axes,
    }


def _table(cid: str, tag: str, columns: list[str], title: str) -> dict[str, Any]:
    return {
        "type": "table",
        "id": cid,
        "title": title,
        "data": _data(tag),
        "columns": columns,
        "page_size": 25,
    }


FEATURE_COLUMNS = ["sample_id", "feature_id", "category", "abundance", "count", "score"]
COMPONENT_LIST: list[dict[str, Any]] = [
    {
        "type": "interactive",
        "id": FILTER_ID,
        "title": "Batch",
        "data": _data("metadata"),
        "column": "batch",
        "interactive_type": "multiselect",
    },
    _card("features_mean_abundance", "features", "abundance", "mean", "Mean abundance"),
    _card("features_rows", "features", "feature_id", "count", "Feature rows"),
    _card("metrics_mean_value", "metrics", "value", "mean", "Mean metric value"),
    _card("samples_count", "metadata", "sample_id", "count", "Samples"),
    _card("features_total_count", "features", "count", "sum", "Total counts"),
    _card("features_score_std", "features", "score", "std", "Score spread (std)"),
    _card("metrics_max_value", "metrics", "value", "max", "Largest metric value"),
    _figure(
        "abundance_vs_score",
        "features",
        "scatter",
        "Abundance vs score",
        x="abundance",
        y="score",
        color="category",
    ),
    _figure("score_histogram", "features", "histogram", "Score", x="score", options={"nbins": 40}),
    _figure("value_box", "metrics", "box", "Metric values", x="metric", y="value"),
    _figure(
        "abundance_by_category",
        "features",
        "bar",
        "Abundance by category",
        x="category",
        y="abundance",
    ),
    _figure(
        "abundance_box", "features", "box", "Abundance by category", x="category", y="abundance"
    ),
    _figure(
        "sample_scatter",
        "metadata",
        "scatter",
        "Samples",
        x="age_days",
        y="depth_m",
        color="condition",
    ),
    _table("metrics_table", "metrics", ["sample_id", "metric", "value"], "Metrics"),
    _table("features_table", "features", FEATURE_COLUMNS, "Features"),
]
COMPONENTS: dict[str, dict[str, Any]] = {str(c["id"]): c for c in COMPONENT_LIST}
# Component id → (x, y, w, h) on the 12-column grid, per dashboard size.
LAYOUTS: dict[int, dict[str, tuple[int, int, int, int]]] = {
    4: {
        FILTER_ID: (0, 0, 3, 2),
        "features_mean_abundance": (3, 0, 3, 2),
        "abundance_vs_score": (0, 2, 6, 6),
        "metrics_table": (6, 2, 6, 6),
    },
    8: {
        FILTER_ID: (0, 0, 3, 2),
        "features_mean_abundance": (3, 0, 3, 2),
        "features_rows": (6, 0, 3, 2),
        "metrics_mean_value": (9, 0, 3, 2),
        "abundance_vs_score": (0, 2, 4, 5),
        "score_histogram": (4, 2, 4, 5),
        "value_box": (8, 2, 4, 5),
        "metrics_table": (0, 7, 12, 6),
    },
    16: {
        FILTER_ID: (0, 0, 3, 2),
        "features_mean_abundance": (3, 0, 3, 2),
        "features_rows": (6, 0, 3, 2),
        "metrics_mean_value": (9, 0, 3, 2),
        "samples_count": (0, 2, 3, 2),
        "features_total_count": (3, 2, 3, 2),
        "features_score_std": (6, 2, 3, 2),
        "metrics_max_value": (9, 2, 3, 2),
        "abundance_vs_score": (0, 4, 4, 5),
        "score_histogram": (4, 4, 4, 5),
        "value_box": (8, 4, 4, 5),
        "abundance_by_category": (0, 9, 4, 5),
        "abundance_box": (4, 9, 4, 5),
        "sample_scatter": (8, 9, 4, 5),
        "metrics_table": (0, 14, 6, 6),
        "features_table": (6, 14, 6, 6),
    },
}


@dataclass(frozen=True)
class DashboardShape:
    """One benchmark dashboard: its YAML and which of its components are of which kind."""

    size: int
    yaml: str
    components: list[str]
    cards: list[str]
    figures: list[str]
    tables: list[str]


def dashboard(size: int) -> DashboardShape:
    """The `size`-component dashboard (JSON is YAML: the import reads it as such)."""
    placed = LAYOUTS[size]
    components = [COMPONENTS[cid] for cid in placed]
    document = {
        "depictio_dashboard": 1,
        "title": f"Benchmark: {size} components",
        "tabs": [
            {
                "id": "overview",
                "title": "Overview",
                "components": components,
                "layout": [
                    {"i": cid, "x": x, "y": y, "w": w, "h": h}
                    for cid, (x, y, w, h) in placed.items()
                ],
            }
        ],
    }
    kinds = {
        kind: [c["id"] for c in components if c["type"] == kind]
        for kind in ("card", "figure", "table")
    }
    return DashboardShape(
        size,
        json.dumps(document, indent=1),
        list(placed),
        kinds["card"],
        kinds["figure"],
        kinds["table"],
    )


def filter_values(offset: int, count: int) -> list[list[str]]:
    """`count` filter values (two batches each), never the same twice across offsets.

    No value repeats within a run, so no round is answered from data_svc's result cache."""
    pairs = [list(pair) for pair in itertools.combinations(BATCHES, 2)]
    random.Random(7).shuffle(pairs)
    return pairs[offset : offset + count]


@dataclass(frozen=True)
class Expected:
    """What a dashboard shows under one filter: card values, rows counted by each table and
    histogram, the samples kept."""

    cards: dict[str, float]
    table_rows: dict[str, int]
    histogram_rows: dict[str, int]
    samples: list[str]


AGGREGATIONS = {
    "count": lambda c: pl.col(c).count(),
    "sum": lambda c: pl.col(c).sum(),
    "mean": lambda c: pl.col(c).mean(),
    "std": lambda c: pl.col(c).std(),
    "max": lambda c: pl.col(c).max(),
}


def expected(shape: DashboardShape, batches: list[str] | None) -> Expected:
    """The values computed with polars from the Parquet files (None: no filter)."""
    metadata = pl.scan_parquet(parquet_path("metadata"))
    if batches:
        metadata = metadata.filter(pl.col("batch").is_in(batches))
    samples = metadata.select("sample_id").collect().to_series().to_list()
    frames = {
        tag: pl.scan_parquet(parquet_path(tag)).filter(pl.col("sample_id").is_in(samples))
        for tag in ("metadata", "metrics", "features")
    }
    cards: dict[str, float] = {}
    for tag, frame in frames.items():
        specs = [
            COMPONENTS[cid]
            for cid in shape.cards
            if COMPONENTS[cid]["data"]["data_collection"] == tag
        ]
        if specs:
            row = frame.select(
                AGGREGATIONS[s["aggregation"]](s["column"]).alias(s["id"]) for s in specs
            ).collect()
            cards |= {s["id"]: float(row.item(0, s["id"])) for s in specs}
    rows = {tag: int(frame.select(pl.len()).collect().item()) for tag, frame in frames.items()}

    def rows_of(cid: str) -> int:
        return rows[COMPONENTS[cid]["data"]["data_collection"]]

    histograms = [cid for cid in shape.figures if COMPONENTS[cid]["visu_type"] == "histogram"]
    return Expected(
        cards,
        {cid: rows_of(cid) for cid in shape.tables},
        {cid: rows_of(cid) for cid in histograms},
        sorted(samples),
    )


def card_number(text: str) -> float:
    """A card's shown value as a number ('12,011,000' → 12011000.0)."""
    return float(text.replace(",", "").replace("\u2212", "-"))


def card_matches(text: str, value: float) -> bool:
    """Whether a card shows `value` (cards round to 4 decimals)."""
    try:
        shown = card_number(text)
    except ValueError:
        return False
    return abs(shown - value) <= 1e-4 + 1e-9 * abs(value)
