"""How the gateway reads a CSV upload's body (gateway.routers.datacollections._read_csv)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pyarrow as pa
import pytest

from depictio.errors import FailedPrecondition, InvalidArgument
from gateway.routers.datacollections import _read_csv, _read_table, csv_bytes


def test_a_header_longer_than_a_reading_block_is_read() -> None:
    names = [f"col_{i:07d}" for i in range(120_000)]  # a 1.4 MB header line
    body = (",".join(names) + "\n" + ",".join("1" for _ in names) + "\n").encode()
    table = _read_csv(body, {})
    assert table.num_columns == 120_000 and table.num_rows == 1
    assert table.column_names[-1] == "col_0119999" and table.column(7).to_pylist() == [1]


def test_a_row_longer_than_a_reading_block_is_read() -> None:
    body = b"sample,ph\n" + b"z" * 3_000_000 + b",1.5\nshort,2\n"
    table = _read_csv(body, {})
    assert [len(s) for s in table.column("sample").to_pylist()] == [3_000_000, 5]
    assert table.column("ph").to_pylist() == [1.5, 2.0]


# Bytes and nested values of every kind /rows writes as text in CSV: base64, JSON (bytes,
# dates, times and decimals inside them as JSON text too).
POINT = pa.struct(
    [
        ("x", pa.int64()),
        ("label", pa.string()),
        ("raw", pa.binary()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("amount", pa.decimal128(10, 2)),
        ("clock", pa.time64("us")),
    ]
)
TEXT_KINDS = pa.table(
    {
        "sample": ["s1", "s2", "s3", "s4"],
        "raw": pa.array([b"\x00\x01", b"", None, b'\xff,\n"x'], pa.binary()),
        "big": pa.array([b"a", None, b"", b"\x00"], pa.large_binary()),
        "pair": pa.array([b"ab", b"\x00\xff", None, b"zz"], pa.binary(2)),
        "reads": pa.array([[1, 2], [], None, [None, 3]], pa.list_(pa.int64())),
        "names": pa.array([["a,b", 'q"uote'], None, [], ["\n"]], pa.large_list(pa.string())),
        "xy": pa.array([[1.5, 2.0], None, [0.0, -1.0], [None, 1.0]], pa.list_(pa.float64(), 2)),
        "point": pa.array(
            [
                {
                    "x": 1,
                    "label": "a",
                    "raw": b"\x00",
                    "day": dt.date(2024, 2, 29),
                    "at": dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
                    "amount": Decimal("-1.25"),
                    "clock": dt.time(1, 2, 3, 4),
                },
                None,
                dict.fromkeys(POINT.names),
                {
                    "x": 2,
                    "label": 'b,"c"',
                    "raw": b"",
                    "day": dt.date(1, 1, 1),
                    "at": dt.datetime(1900, 1, 1, tzinfo=dt.UTC),
                    "amount": Decimal("0.00"),
                    "clock": dt.time(0),
                },
            ],
            POINT,
        ),
        "tags": pa.array(
            [[("lane", 1)], [], None, [("lane", 2), ("x", None)]], pa.map_(pa.string(), pa.int64())
        ),
        "deep": pa.array(
            [[{"k": [b"\x01"]}], None, [], [{"k": None}]],
            pa.list_(pa.struct([("k", pa.list_(pa.binary()))])),
        ),
        "when": pa.array(
            [[(1, [dt.datetime(2020, 1, 1)])], None, [], []],
            pa.map_(pa.int32(), pa.list_(pa.timestamp("ms"))),
        ),
    }
)

TYPES = dict(zip(TEXT_KINDS.column_names, TEXT_KINDS.schema.types, strict=True))


def test_bytes_and_nested_columns_read_back_from_the_csv_the_rows_route_writes() -> None:
    body = csv_bytes(TEXT_KINDS, header=True)
    # The export holds them as text: base64, JSON (a map as [key, value] pairs).
    first = next(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert (first["raw"], first["tags"], first["pair"]) == ("AAE=", '[["lane", 1]]', "YWI=")
    table = _read_csv(body, TYPES)
    assert table.schema == TEXT_KINDS.schema
    for name in TEXT_KINDS.column_names:
        assert table.column(name).to_pylist() == TEXT_KINDS.column(name).to_pylist(), name
    # A map may be given as an object too; a JSON null is a null.
    given = b'sample,tags,reads\ns1,"{""a"": 1, ""b"": null}",null\n'
    assert _read_csv(given, TYPES).to_pylist() == [
        {"sample": "s1", "tags": [("a", 1), ("b", None)], "reads": None}
    ]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b"sample,raw\ns1,AAE=\ns2,AAE\n",
            "up.csv, line 3, column 'raw': 'AAE' is not base64 text of binary, the type of "
            "the table's column",
        ),
        (
            b'sample,reads\ns1,"[1,"\n',
            "up.csv, line 2, column 'reads': '[1,' is not JSON text of list<item: int64>, the "
            "type of the table's column: Expecting value: line 1 column 4 (char 3)",
        ),
        (
            b'sample,reads\ns1,[1]\ns2,"[""a""]"\n',
            "up.csv, line 3, column 'reads': '[\"a\"]' does not fit list<item: int64>, the type "
            "of the table's column: Could not convert 'a' with type str: tried to convert to "
            "int64",
        ),
        (
            b'sample,reads\ns1,"{""a"": 1}"\n',
            "up.csv, line 2, column 'reads': '{\"a\": 1}' does not fit list<item: int64>, the "
            'type of the table\'s column: expected a list, got {"a": 1}',
        ),
        (
            b'sample,point\ns1,"{""y"": 1}"\n',
            f"up.csv, line 2, column 'point': '{{\"y\": 1}}' does not fit {POINT}, the type of "
            "the table's column: no field 'y'",
        ),
        (
            b'sample,tags\ns1,"[[""a""]]"\n',
            "up.csv, line 2, column 'tags': '[[\"a\"]]' does not fit map<string, int64>, the "
            'type of the table\'s column: expected a [key, value] pair, got ["a"]',
        ),
        (
            b"sample,pair\ns1,YWI=\ns2,AAAA\n",
            "up.csv, line 3, column 'pair': 'AAAA' does not fit fixed_size_binary[2], the type "
            "of the table's column: Could not convert b'\\x00\\x00\\x00' with type bytes: "
            "expected to be length 2 was 3",
        ),
    ],
)
def test_a_value_that_is_not_its_columns_text_is_refused_naming_line_and_column(
    body: bytes, detail: str
) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        _read_table(body, "csv", "up.csv", TYPES)
    assert refused.value.message == detail


def test_a_ragged_row_and_a_value_not_utf8_name_their_line() -> None:
    with pytest.raises(InvalidArgument) as ragged:
        _read_table(b"sample,site,ph\ns1,east,1\n\ns10,east\n", "csv", "", {})
    # Line 4: the blank line 3 counts as a line (pyarrow skips it as a row).
    assert ragged.value.message == "body, line 4: 2 fields, expected 3 (as in the header)"
    with pytest.raises(InvalidArgument) as not_utf8:
        _read_table(
            b'sample,site\ns1,east\ns2,"we\nst"\ns3,w\xffst\n',
            "csv",
            "f.csv",
            {"site": pa.string()},
        )
    assert not_utf8.value.message == "f.csv, line 5, column 'site': the value is not UTF-8 text"
    with pytest.raises(InvalidArgument) as header:
        _read_table(b"sample,\xffsite\ns1,east\n", "csv", "", {})
    assert header.value.message == "body, line 1: the header is not UTF-8 text"


def test_every_pyarrow_error_reading_a_body_is_a_refusal_of_the_body() -> None:
    # ArrowNotImplementedError: pyarrow's CSV reader has no conversion to float16.
    with pytest.raises(InvalidArgument) as csv_refused:
        _read_table(b"sample,h\ns1,1.5\n", "csv", "h.csv", {"h": pa.float16()})
    assert csv_refused.value.message == (
        "h.csv: not a readable csv file (CSV conversion to halffloat is not supported)"
    )
    with pytest.raises(InvalidArgument) as parquet_refused:
        _read_table(b"PAR1" + b"\x00" * 50 + b"PAR1", "parquet", "", {})
    assert parquet_refused.value.message.startswith("body: not a readable parquet file (")
