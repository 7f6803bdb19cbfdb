"""`depictio data join`: each persisted join computed from its two tables (read through the
gateway) and written over its joined data collection in one commit."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from depictio.arrow_ipc import table_to_ipc
from depictio.cli.failures import CliFailure
from depictio.cli.gateway_api import GatewayApi
from depictio.cli.project_files import DataCollectionPlan, JoinPlan
from depictio.cli.table_reading import FILE_COLUMN, RUN_ID_COLUMN

POLARS_HOW = {"inner": "inner", "left": "left", "right": "right", "outer": "full"}


@dataclass(frozen=True)
class JoinOutcome:
    """What one join wrote."""

    name: str
    target: str
    rows: int
    version: int


# The right side's provenance, named apart while the tables are joined.
RIGHT_PROVENANCE = {RUN_ID_COLUMN: "__right_run_id", FILE_COLUMN: "__right_file"}


def join_keys(join: JoinPlan, left: pa.Table, right: pa.Table) -> list[str]:
    """The columns rows are matched on: `join.on_columns`, and the run id when both tables
    are per-run tables (neither a `metadata` table): a sample in two runs is joined with its
    own run's rows, not with the other run's."""
    keys = list(join.on_columns)
    per_run = all(
        RUN_ID_COLUMN in table.column_names and dc.metatype != "metadata"
        for table, dc in ((left, join.left), (right, join.right))
    )
    if per_run and RUN_ID_COLUMN not in keys:
        keys.append(RUN_ID_COLUMN)
    return keys


def joined_table(join: JoinPlan, left: pa.Table, right: pa.Table) -> pa.Table:
    """The join of two tables on `join_keys`. A row keeps the left side's provenance; a row
    only the right side has (right and outer joins) keeps the right side's."""
    for side, table, dc in (("left", left, join.left), ("right", right, join.right)):
        missing = [c for c in join.on_columns if c not in table.column_names]
        if missing:
            raise CliFailure(
                f"join {join.name!r}: the {side} table {dc.label!r} has no column {missing} "
                f"(it has {[c for c in table.column_names if not c.startswith('depictio_')]})"
            )
    keys = join_keys(join, left, right)
    apart = {column: name for column, name in RIGHT_PROVENANCE.items() if column not in keys}
    left_frame = pl.DataFrame(left)
    right_frame = pl.DataFrame(right).rename(apart, strict=False)
    try:
        result = left_frame.join(
            right_frame,
            on=keys,
            how=POLARS_HOW[join.how],  # type: ignore[arg-type]
            coalesce=True,
        )
    except pl.exceptions.PolarsError as exc:
        raise CliFailure(f"join {join.name!r}: {exc}") from exc
    kept = [
        pl.coalesce(column, right_name).alias(column)
        for column, right_name in apart.items()
        if column in result.columns and right_name in result.columns
    ]
    return result.with_columns(kept).drop(list(apart.values()), strict=False).to_arrow()


def run_join(api: GatewayApi, join: JoinPlan) -> JoinOutcome:
    """Computes one join and overwrites its joined data collection with the result."""
    target = require_target(join)
    table = joined_table(join, api.rows(join.left.id), api.rows(join.right.id))
    written = api.upload(
        target.id,
        [table_to_ipc(table)],
        {
            "mode": "overwrite",
            "run_ids": sorted(set(table.column(RUN_ID_COLUMN).to_pylist())),
        },
    )
    return JoinOutcome(join.name, target.label, int(written["rows"]), int(written["version"]))


def require_target(join: JoinPlan) -> DataCollectionPlan:
    if join.target is None:
        raise CliFailure(
            f"join {join.name!r}: no data collection holds its result; declare one with "
            f"data_collection_tag {join.name!r} and config.source: joined"
        )
    return join.target
