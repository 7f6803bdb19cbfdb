"""Benchmark of CSV → Delta ingestion through the CLI (`make bench`), side by side in one run:

- `depictio run` on a ≥ 1 GB set of CSV files (8 runs), through the gateway and data_svc,
  wall-clock time of the whole command (budget ≥ 100 MB/s of CSV on this machine);
- baseline: polars reading the same CSV files and writing a local Delta table directly.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from cli_support import SCRIPT, Cli, Server, api_token
from conftest import MakeStack, Stack
from deltalake import write_deltalake

pytestmark = pytest.mark.timeout(1800)
RUNS = 8
ROWS_PER_RUN = 1_900_000
MIN_BYTES = 1_000_000_000
REPEATS = 3

PROJECT = """\
name: "Ingestion benchmark {round}"
project_type: "advanced"
workflows:
  - name: "bench"
    engine: {{name: "python"}}
    data_location:
      structure: "sequencing-runs"
      runs_regex: "run_.*"
      locations: ["runs"]
    data_collections:
      - data_collection_tag: "features"
        config:
          type: "Table"
          metatype: "Aggregate"
          scan:
            mode: "recursive"
            scan_parameters: {{regex_config: {{pattern: "features.csv"}}}}
          dc_specific_properties: {{format: "CSV"}}
"""


def write_runs(folder: Path) -> list[Path]:
    """RUNS folders each with a features.csv: a sample id, a feature, counts and scores."""
    rng = np.random.default_rng(5)
    files = []
    for run in range(RUNS):
        path = folder / "runs" / f"run_{run:02d}" / "features.csv"
        path.parent.mkdir(parents=True)
        n = ROWS_PER_RUN
        pl.DataFrame(
            {
                "sample_id": pl.Series(rng.integers(0, 500, n)).cast(pl.String),
                "feature": pl.Series(rng.integers(0, 20_000, n)).cast(pl.String),
                "count": rng.integers(0, 100_000, n),
                "abundance": rng.random(n),
                "score": rng.normal(size=n),
                "depth": rng.integers(1_000, 1_000_000, n),
                "quality": rng.random(n) * 40,
            }
        ).write_csv(path)
        files.append(path)
    return files


@pytest.fixture(scope="module")
def csv_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("ingest-bench")
    return folder, write_runs(folder)


@pytest.fixture(scope="module")
def bench_stack(make_stack: MakeStack) -> Iterator[Stack]:
    with make_stack(DEPICTIO_LOG_LEVEL="WARNING", DEPICTIO_DATA_MEMORY_MB="0") as running:
        yield running


def baseline_seconds(files: list[Path], target: Path) -> float:
    """polars reads every CSV and writes one local Delta table, directly."""
    started = time.perf_counter()
    table = pl.concat([pl.read_csv(path) for path in files]).to_arrow()
    write_deltalake(str(target), table, mode="overwrite")
    return time.perf_counter() - started


def test_cli_ingestion_throughput(
    bench_stack: Stack, csv_set: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    folder, files = csv_set
    total = sum(path.stat().st_size for path in files)
    assert total >= MIN_BYTES, f"the CSV set is {total / 1e6:.0f} MB"
    token = api_token(bench_stack.gateway_url, bench_stack.admin_email, bench_stack.admin_password)
    cli = Cli(bench_stack.gateway_url, tmp_path / "config", token)
    server = Server(bench_stack.gateway_url, token)
    cli_seconds = []
    for round_number in range(REPEATS):
        config = folder / f"project-{round_number}.yaml"
        config.write_text(PROJECT.format(round=round_number))
        started = time.perf_counter()
        done = cli("run", str(config), "--json")
        cli_seconds.append(time.perf_counter() - started)
        assert done.returncode == 0, done.stderr
        project = server.project(f"Ingestion benchmark {round_number}")
        assert (
            server.get(f"/api/v1/datacollections/{server.dc_id(project, 'features')}/schema")[
                "rows"
            ]
            == RUNS * ROWS_PER_RUN
        )
    server.close()
    base = [baseline_seconds(files, tmp_path / f"baseline-{i}") for i in range(REPEATS)]

    mb = total / 1e6
    cli_rate = mb / statistics.median(cli_seconds)
    base_rate = mb / statistics.median(base)
    version = subprocess.run([str(SCRIPT), "version"], capture_output=True, text=True).stdout
    print()
    rows = RUNS * ROWS_PER_RUN
    print(f"CSV → Delta ingestion ({len(files)} files, {rows:,} rows, {mb:,.0f} MB of CSV)")
    print(f"  {'what':<46}{'median':>10}{'throughput':>16}")
    for label, seconds, rate in (
        ("depictio run (CLI → gateway → data_svc)", cli_seconds, cli_rate),
        ("polars read_csv + write_deltalake (baseline)", base, base_rate),
    ):
        print(f"  {label:<46}{statistics.median(seconds):>9.2f}s{rate:>11,.0f} MB/s")
    print(f"  CLI / baseline = {cli_rate / base_rate:.2f}; budget ≥ 100 MB/s; {version.strip()}")
    assert cli_rate >= 100, f"CLI ingestion at {cli_rate:.0f} MB/s"
