"""Bodies of the data collection routes: table schema and versions, queries and their results."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from google.protobuf import json_format
from pydantic import BaseModel, Field

from depictio.arrow_ipc import ipc_to_table
from depictio.errors import InvalidArgument
from depictio.filters import check_filter_depth, value_to_python
from depictio.v1 import data_pb2
from gateway.json_values import json_value
from gateway.models import Input

Scalar = str | int | float | bool | datetime | date | None


class ValueCountPublic(BaseModel):
    """A value and how often it occurs."""

    value: Scalar
    count: int


class ColumnPublic(BaseModel):
    """A column with the statistics computed when the table was written."""

    name: str
    type: str = Field(description="Arrow type name, e.g. int64, double, string.")
    count: int = Field(description="Non-null values.")
    nulls: int
    nunique: int = Field(description="Distinct non-null values.")
    nunique_estimated: bool = Field(
        False,
        description="True when nunique is an estimate (HyperLogLog, above 10,000 distinct values).",
    )
    min: Scalar = None
    max: Scalar = None
    mean: float | None = None
    top_values: list[ValueCountPublic] = Field(default_factory=list)

    @classmethod
    def from_pb(cls, spec: data_pb2.ColumnSpec) -> ColumnPublic:
        def scalar(value: Any) -> Scalar:
            found = value_to_python(value)
            # A date travels as its midnight: shown as the date, as /rows and /query show it.
            if isinstance(found, datetime) and spec.type.startswith("date"):
                return found.date()
            return found

        return cls(
            name=spec.name,
            type=spec.type,
            count=spec.count,
            nulls=spec.nulls,
            nunique=spec.nunique,
            nunique_estimated=spec.nunique_estimated,
            min=scalar(spec.min) if spec.HasField("min") else None,
            max=scalar(spec.max) if spec.HasField("max") else None,
            mean=spec.mean if spec.HasField("mean") else None,
            top_values=[
                ValueCountPublic(value=scalar(v.value), count=v.count) for v in spec.top_values
            ],
        )


class SchemaPublic(BaseModel):
    """A table version's columns and row count."""

    version: int
    rows: int
    columns: list[ColumnPublic]

    @classmethod
    def from_pb(cls, described: data_pb2.DescribeResponse) -> SchemaPublic:
        return cls(
            version=described.version,
            rows=described.rows,
            columns=[ColumnPublic.from_pb(spec) for spec in described.columns],
        )


class VersionPublic(BaseModel):
    """One version of a table."""

    version: int
    time: datetime
    operation: str = Field(description="WRITE, OPTIMIZE, RESTORE, …")
    rows: int = Field(description="Rows the version added.")
    run_ids: list[str]
    mode: str = Field(
        "", description="A write's mode: append, overwrite, replace_run or replace_runs."
    )

    @classmethod
    def from_pb(cls, entry: data_pb2.TableVersion) -> VersionPublic:
        return cls(
            version=entry.version,
            time=entry.time.ToDatetime(tzinfo=UTC),
            operation=entry.operation,
            rows=entry.rows,
            run_ids=list(entry.run_ids),
            mode=entry.mode,
        )


class WrittenPublic(BaseModel):
    """What an upload committed."""

    version: int = Field(description="The table version the upload created.")
    rows: int
    bytes: int = Field(description="Bytes of Arrow data received by the data service.")


class QueryCreate(Input):
    """A batch of component queries, in the JSON form of depictio.v1.QueryRequest."""

    filters: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Filter trees by data collection id, e.g. "
        '{"<dc>": {"column": {"column": "site", "in_values": {"values": '
        '[{"string_value": "north"}]}}}}; filters reach linked data collections.',
    )
    queries: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=256,
        description='ComponentQuery objects, e.g. {"id": "n", "aggregate": {"columns": '
        '["x"], "aggregations": ["AGGREGATION_MEAN"]}}; data_collection_id defaults to the '
        "path's.",
    )

    def to_pb(self, data_collection_id: str) -> data_pb2.QueryRequest:
        """The QueryRequest; an unknown or ill-typed field is refused naming its place."""
        request = data_pb2.QueryRequest(data_collection_id=data_collection_id)
        for dc, tree in self.filters.items():
            _parse(tree, request.filters[dc], f"filters[{dc!r}]")
            # Deeper, the request passes protobuf's own nesting limit on its way to data_svc.
            check_filter_depth(request.filters[dc], f"filters[{dc!r}]")
        for index, query in enumerate(self.queries):
            _parse(query, request.queries.add(), f"queries[{index}]")
        return request


def _parse(document: dict[str, Any], message: Any, where: str) -> None:
    try:
        json_format.ParseDict(document, message)
    except json_format.ParseError as exc:
        raise InvalidArgument(f"{where}: {exc}") from exc


class ResultPublic(BaseModel):
    """One component's result: its table as columns and rows."""

    id: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total_rows: int = Field(description="Rows matching the filters, before any limit.")
    sampled: bool
    truncated: bool
    version: int

    @classmethod
    def from_pb(cls, result: data_pb2.ComponentResult) -> ResultPublic:
        table: pa.Table = ipc_to_table(result.arrow_ipc)
        return cls(
            id=result.id,
            columns=table.column_names,
            rows=[json_value(row) for row in table.to_pylist()],
            total_rows=result.total_rows,
            sampled=result.sampled,
            truncated=result.truncated,
            version=result.version,
        )


class QueryResultsPublic(BaseModel):
    """Results in the order of the queries."""

    results: list[ResultPublic]
