"""How the gateway reads a CSV upload's body (gateway.routers.datacollections._read_csv)."""

from __future__ import annotations

from gateway.routers.datacollections import _read_csv


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
