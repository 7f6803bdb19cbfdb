"""The baseline of the Scan benchmark: a pyarrow.flight server streaming one Parquet file.

Run as `python flight_server.py <port> <parquet file>`; it loads the file into memory and
serves it whole to every do_get, until terminated.
"""

from __future__ import annotations

import sys

import pyarrow.flight as flight
import pyarrow.parquet as pq


class TableServer(flight.FlightServerBase):
    """Serves one in-memory table to every ticket."""

    def __init__(self, location: str, path: str) -> None:
        super().__init__(location)
        self.table = pq.read_table(path)

    def do_get(
        self, context: flight.ServerCallContext, ticket: flight.Ticket
    ) -> flight.FlightDataStream:
        return flight.RecordBatchStream(self.table)


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    server = TableServer(f"grpc://127.0.0.1:{port}", path)
    server.serve()


if __name__ == "__main__":
    main()
