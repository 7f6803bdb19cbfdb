"""Bad input to `depictio run`: exit code 1, a message naming the file (line, column) or the
setting and what was expected, and nothing changed on the server — every table keeps its Delta
version and no run or file is registered. Each case has a small project of its own."""

from __future__ import annotations

import datetime as dt
import io
import random
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from cli_support import Cli, Server
from conftest import Stack

pytestmark = pytest.mark.timeout(300)

LABELS = "id,label\n1,x\n2,y\n"
MEASURES = "id,x\n1,10\n2,20\n"


def table_dc(tag: str, scan: dict[str, Any], fmt: str = "CSV") -> dict[str, Any]:
    return {
        "data_collection_tag": tag,
        "config": {
            "type": "Table",
            "metatype": "Aggregate",
            "scan": scan,
            "dc_specific_properties": {"format": fmt},
        },
    }


def basic_project(folder: Path, name: str, files: dict[str, tuple[str, str]]) -> Path:
    """A basic project: one single-file data collection per tag -> (file name, format)."""
    dcs = [
        table_dc(tag, {"mode": "single", "scan_parameters": {"filename": filename}}, fmt)
        for tag, (filename, fmt) in files.items()
    ]
    return write_config(folder, {"name": name, "project_type": "basic", "data_collections": dcs})


def advanced_project(
    folder: Path,
    name: str,
    workflow: str,
    patterns: dict[str, str],
    location: str = "runs",
    formats: dict[str, str] | None = None,
) -> Path:
    """An advanced project: runs under `location` matching run_.*, one recursive data
    collection per tag -> pattern (CSV unless `formats` names another)."""
    dcs = [
        table_dc(
            tag,
            {"mode": "recursive", "scan_parameters": {"regex_config": {"pattern": p}}},
            (formats or {}).get(tag, "CSV"),
        )
        for tag, p in patterns.items()
    ]
    config = {
        "name": name,
        "project_type": "advanced",
        "workflows": [
            {
                "name": workflow,
                "engine": {"name": "python"},
                "data_location": {
                    "structure": "sequencing-runs",
                    "runs_regex": "run_.*",
                    "locations": [location],
                },
                "data_collections": dcs,
            }
        ],
    }
    return write_config(folder, config)


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "project.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_runs(folder: Path, files: dict[str, dict[str, str]]) -> None:
    """runs/<run>/<file> with the given texts."""
    for run, texts in files.items():
        (folder / "runs" / run).mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (folder / "runs" / run / name).write_text(text)


def state(server: Server, name: str) -> dict[str, Any]:
    """What the server holds of a project: each table's version, its runs and files, and the
    config (patterns and locations)."""
    project = server.project(name)
    dcs = list(project["data_collections"]) + [
        dc for workflow in project["workflows"] for dc in workflow["data_collections"]
    ]
    return {
        "versions": {dc["data_collection_tag"]: server.version(dc["id"]) for dc in dcs},
        "runs": server.runs(project["id"]),
        "files": server.files(project["id"]),
        "patterns": {dc["data_collection_tag"]: dc["regex_pattern"] for dc in dcs},
        "locations": [w["data_location"]["locations"] for w in project["workflows"]],
    }


def withdrawn(server: Server, name: str) -> None:
    """A first run refused before any table was written leaves no project behind."""
    assert not server.has_project(name), f"project {name!r} left on the server"


def ingest(cli: Cli, config: Path) -> None:
    done = cli("run", str(config))
    assert done.returncode == 0, done.stderr


def refused(cli: Cli, config: Path) -> str:
    """The error message of a `depictio run` that must fail with exit code 1."""
    done = cli("run", str(config))
    assert done.returncode == 1, f"rc {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "error: " in done.stderr
    return " ".join(done.stderr.split("error: ", 1)[1].split())


def test_ragged_rows_name_the_file_and_line(cli: Cli, server: Server, tmp_path: Path) -> None:
    config = basic_project(tmp_path, "Bad ragged", {"table": ("table.csv", "CSV")})
    table = config.parent / "table.csv"
    table.write_text("a,b,c\n1,2,3\n4,5,6\n")
    ingest(cli, config)
    before = state(server, "Bad ragged")
    assert before["versions"]["table"] is not None and len(before["files"]) == 1

    # One field too many on line 4 (polars refuses it) and one too few (polars reads nulls).
    for row, fields in (("7,8,9,10", 4), ("7,8", 2)):
        table.write_text(f"a,b,c\n1,2,3\n4,5,6\n{row}\n11,12,13\n")
        message = refused(cli, config)
        assert f"{table.resolve()}, line 4: {fields} fields, expected 3" in message
        assert state(server, "Bad ragged") == before


def test_type_change_across_files_names_column_and_files(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    # `labels` comes first and is fine: it must not be committed when `measures` fails.
    config = advanced_project(
        tmp_path, "Bad types", "wf", {"labels": "labels.csv", "measures": "measures.csv"}
    )
    runs = config.parent / "runs"
    write_runs(
        config.parent,
        {
            "run_a": {"labels.csv": LABELS, "measures.csv": MEASURES},
            "run_b": {"labels.csv": LABELS, "measures.csv": "id,x\n3,abc\n4,def\n"},
        },
    )
    a_file = (runs / "run_a" / "measures.csv").resolve()
    b_file = (runs / "run_b" / "measures.csv").resolve()
    message = refused(cli, config)
    assert "column 'x'" in message
    assert str(a_file) in message and str(b_file) in message
    withdrawn(server, "Bad types")

    # Against an existing integer column: the text in run_b is refused, labels stay as they are.
    b_file.write_text("id,x\n3,30\n4,40\n")
    ingest(cli, config)
    before = state(server, "Bad types")
    b_file.write_text("id,x\n3,abc\n")
    (runs / "run_b" / "labels.csv").write_text("id,label\n3,z\n")
    message = refused(cli, config)
    # The value and its line are named, though they are within the rows read to type the
    # columns (they made the column text there).
    assert f"{b_file}, line 2, column 'x' of 'wf.measures': 'abc' does not parse as int64" in (
        message
    )
    assert state(server, "Bad types") == before


def test_a_column_with_no_value_in_a_file_takes_its_type_from_the_others_or_the_table(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    """Not bad input: polars reads an empty column (or a file of a header only) as text, which
    was refused against the numbers other files or the table hold."""
    config = advanced_project(tmp_path, "Empty columns", "wf", {"v": "v.csv"})
    texts = {
        "run_1": "sample,depth,qual\nS1,10,\nS2,20,\n",
        "run_2": "sample,depth,qual\nS3,30,0.5\n",
    }
    write_runs(config.parent, {run: {"v.csv": text} for run, text in texts.items()})
    ingest(cli, config)
    dc = server.dc_id(server.project("Empty columns"), "v")
    expected = pd.concat(
        [pd.read_csv(io.StringIO(text)) for text in texts.values()], ignore_index=True
    )
    stored = server.rows(dc)
    assert str(stored.schema.field("qual").type) == "double"
    got = stored.to_pandas().sort_values("sample").reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(expected.columns)], expected, check_dtype=False)

    # A header-only file into the existing table: its run has no rows, its columns the
    # table's types.
    (config.parent / "runs" / "run_2" / "v.csv").write_text("sample,depth,qual\n")
    ingest(cli, config)
    stored = server.rows(dc)
    assert sorted(stored.column("sample").to_pylist()) == ["S1", "S2"]
    assert [str(stored.schema.field(c).type) for c in ("depth", "qual")] == ["int64", "double"]


def test_unreadable_xlsx_names_the_file(cli: Cli, server: Server, tmp_path: Path) -> None:
    config = basic_project(
        tmp_path, "Bad xlsx", {"good": ("good.csv", "CSV"), "sheet": ("sheet.xlsx", "xlsx")}
    )
    (config.parent / "good.csv").write_text(LABELS)
    sheet = config.parent / "sheet.xlsx"
    sheet.write_bytes(random.Random(7).randbytes(4096))
    message = refused(cli, config)
    assert f"{sheet.resolve()}: not a readable xlsx file" in message
    withdrawn(server, "Bad xlsx")


def parquet_with(column: pa.Array) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        pq.write_table(pa.table({"id": list(range(len(column))), "c": column}), path)

    return write


def text(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


@pytest.mark.parametrize(
    ("name", "write", "said"),
    [
        (
            "b.parquet",
            parquet_with(pa.array([dt.time(1, 2)], pa.time64("us"))),
            "column 'c' of {path}: Delta tables cannot store times of day",
        ),
        (
            "b.parquet",
            parquet_with(pa.array([2**64 - 1], pa.uint64())),
            "column 'c' of {path}: its uint64 values do not all fit int64",
        ),
        (
            "b.parquet",
            parquet_with(pa.array([1], pa.timestamp("ns"))),
            "column 'c' of {path}: its timestamp[ns] values do not all fit timestamp[us]",
        ),
        ("b.csv", text(b"id,,x\n1,2,3\n"), "{path}: column 2 has no name"),
        ("b.csv", text(b"i\x00d,x\n1,2\n"), "{path}: column 1 ('i\\x00d') has a NUL character"),
        (
            "b.csv",
            text(b"id,x\n1,99999999999999999999\n2,3\n"),
            "column 'x' of {path}: integers wider than 64 bits cannot be stored",
        ),
        (
            "b.csv",
            text(b"id,depictio_run_id\n1,mine\n"),
            "{path}: column 'depictio_run_id' is Depictio's own",
        ),
    ],
)
def test_values_no_table_can_hold_fail_the_run_before_any_commit(
    cli: Cli, server: Server, tmp_path: Path, name: str, write: Callable[[Path], None], said: str
) -> None:
    """data_svc would refuse these only once every upload ended, when `a` had committed."""
    project = f"Unstorable {tmp_path.name}"
    fmt = "parquet" if name.endswith(".parquet") else "CSV"
    config = basic_project(tmp_path, project, {"a": ("a.csv", "CSV"), "b": (name, fmt)})
    (config.parent / "a.csv").write_text(MEASURES)
    bad = config.parent / name
    write(bad)
    message = refused(cli, config)
    assert said.format(path=bad.resolve()) in message, message
    withdrawn(server, project)
    # Into an existing table too: `a` keeps its version, nothing is registered.
    bad.unlink()
    good = pd.DataFrame({"id": [1]})
    if name.endswith(".parquet"):
        good.to_parquet(bad)
    else:
        bad.write_text("id,x\n1,2\n")
    ingest(cli, config)
    before = state(server, project)
    (config.parent / "a.csv").write_text(MEASURES + "3,30\n")
    write(bad)
    refused(cli, config)
    assert state(server, project) == before


def test_files_as_pandas_reads_them_and_hidden_or_broken_ones(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    """Blank lines skipped, types guessed from the first thousand rows, categories beside
    text, hidden files left out; a broken link named."""
    patterns = {"m": r"m\.csv", "p": r"p\.parquet"}
    config = advanced_project(tmp_path, "As pandas", "wf", patterns, formats={"p": "parquet"})
    runs = config.parent / "runs"
    late_float = "id,x\n" + "".join(f"{i},{i}\n" for i in range(148)) + "148,0.5\n"
    texts = {"run_1": "id,x\n1,2\n\n\n3,4\n", "run_2": late_float}
    write_runs(config.parent, {run: {"m.csv": content} for run, content in texts.items()})
    (runs / "run_1" / ".m.csv").write_text("id,x\n9,9\n")
    (runs / "run_2" / "._m.csv").write_bytes(b"\x00\x05\x16\x07")
    frames = {
        "run_1": pd.DataFrame({"g": pd.Categorical(["a", "b"]), "v": [1.0, 2.0]}),
        "run_2": pd.DataFrame({"g": ["b", "c"], "v": [3.0, 4.0]}),
    }
    for run, frame in frames.items():
        frame.to_parquet(runs / run / "p.parquet")
    ingest(cli, config)
    project = server.project("As pandas")
    expected = pd.concat(
        [pd.read_csv(io.StringIO(content)) for content in texts.values()], ignore_index=True
    )
    stored = server.rows(server.dc_id(project, "m")).to_pandas().sort_values(["id", "x"])
    assert str(server.rows(server.dc_id(project, "m")).schema.field("x").type) == "double"
    pd.testing.assert_frame_equal(
        stored[["id", "x"]].reset_index(drop=True),
        expected.sort_values(["id", "x"]).reset_index(drop=True),
        check_dtype=False,
    )
    parquet = server.rows(server.dc_id(project, "p")).to_pandas().sort_values("v")
    assert list(parquet["g"]) == ["a", "b", "b", "c"] and list(parquet["v"]) == [1, 2, 3, 4]

    before = state(server, "As pandas")
    broken = runs / "run_2" / "gone_m.csv"
    broken.symlink_to(runs / "nowhere.csv")
    config.write_text(config.read_text().replace(r"m\.csv", r".*m\.csv"))
    message = refused(cli, config)
    assert f"{broken}: cannot be read (No such file or directory)" in message
    assert state(server, "As pandas") == {
        **before,
        "patterns": state(server, "As pandas")["patterns"],
    }


def test_floats_for_an_integer_column_say_how_to_widen_it(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = advanced_project(tmp_path, "Widen", "wf", {"m": r"m\.csv"})
    texts = {"run_1": MEASURES, "run_2": "id,x\n3,0.5\n"}
    write_runs(config.parent, {"run_1": {"m.csv": texts["run_1"]}})
    ingest(cli, config)
    before = state(server, "Widen")
    write_runs(config.parent, {"run_2": {"m.csv": texts["run_2"]}})
    message = refused(cli, config)
    assert "'0.5' does not parse as int64" in message
    assert "run again with --overwrite to rewrite the table from all its files" in message
    assert state(server, "Widen") == before
    done = cli("run", str(config), "--overwrite")
    assert done.returncode == 0, done.stderr
    stored = server.rows(server.dc_id(server.project("Widen"), "m"))
    assert str(stored.schema.field("x").type) == "double"
    expected = pd.concat([pd.read_csv(io.StringIO(t)) for t in texts.values()], ignore_index=True)
    got = stored.to_pandas()[["id", "x"]].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_changed_reading_settings_rewrite_the_table(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = basic_project(tmp_path, "Reread", {"t": ("t.csv", "CSV")})
    table = config.parent / "t.csv"
    table.write_text("id;x;y\n1;2;3\n4;5;6\n")
    ingest(cli, config)
    dc = server.dc_id(server.project("Reread"), "t")
    assert "id;x;y" in server.rows(dc).column_names
    document = yaml.safe_load(config.read_text())
    properties = document["data_collections"][0]["config"]["dc_specific_properties"]
    properties.update(polars_kwargs={"separator": ";"}, keep_columns=["id", "x"])
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    done = cli("run", str(config))
    assert done.returncode == 0, done.stderr
    assert "t: polars_kwargs, keep_columns changed since the last sync" in done.stderr
    stored = server.rows(dc)
    expected = pd.read_csv(table, sep=";")[["id", "x"]]
    assert [c for c in stored.column_names if not c.startswith("depictio_")] == ["id", "x"]
    got = stored.to_pandas()[["id", "x"]].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    again = cli("run", str(config))
    assert again.returncode == 0 and "changed since the last sync" not in again.stderr


def test_instants_in_another_time_zone_add_to_the_table(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = basic_project(tmp_path, "Time zones", {"t": ("t.parquet", "parquet")})
    path = config.parent / "t.parquet"
    paris = pa.timestamp("us", tz="Europe/Paris")
    pq.write_table(pa.table({"id": [1, 2], "at": pa.array([0, 3_600_000_000], paris)}), path)
    ingest(cli, config)
    hours = [0, 3_600_000_000, 7_200_000_000]
    pq.write_table(pa.table({"id": [1, 2, 3], "at": pa.array(hours, paris)}), path)
    ingest(cli, config)
    stored = server.rows(server.dc_id(server.project("Time zones"), "t")).sort_by("id")
    assert stored.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert stored.column("at").cast(pa.int64()).to_pylist() == hours


def test_empty_file_names_the_file(cli: Cli, server: Server, tmp_path: Path) -> None:
    config = basic_project(tmp_path, "Bad empty", {"table": ("table.csv", "CSV")})
    table = config.parent / "table.csv"
    table.write_text(LABELS)
    ingest(cli, config)
    before = state(server, "Bad empty")
    table.write_bytes(b"")
    message = refused(cli, config)
    assert f"{table.resolve()}: the file is empty (0 bytes)" in message
    assert state(server, "Bad empty") == before


def test_a_wrong_value_after_the_first_rows_names_line_and_column(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = basic_project(tmp_path, "Bad late value", {"table": ("table.csv", "CSV")})
    table = config.parent / "table.csv"
    table.write_text(MEASURES)
    ingest(cli, config)
    before = state(server, "Bad late value")
    # 2,000 integer rows, then text on line 2,003 (after the header and 2,001 good rows).
    lines = ["id,x", *(f"{i},{i * 10}" for i in range(2001)), "2001,abc", "2002,7"]
    table.write_text("\n".join(lines) + "\n")
    message = refused(cli, config)
    assert f"{table.resolve()}, line 2003, column 'x': 'abc' does not parse as i64" in message
    assert state(server, "Bad late value") == before


def test_pattern_without_match_names_collection_and_pattern(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    patterns = {"labels": r"labels\.csv", "measures": r"measures\.csv"}
    config = advanced_project(tmp_path, "Bad pattern", "wf", patterns)
    write_runs(config.parent, {"run_a": {"labels.csv": LABELS, "measures.csv": MEASURES}})
    ingest(cli, config)
    before = state(server, "Bad pattern")
    (config.parent / "runs" / "run_a" / "labels.csv").write_text("id,label\n9,changed\n")
    advanced_project(tmp_path, "Bad pattern", "wf", {**patterns, "measures": r"metrics_.*\.csv"})
    message = refused(cli, config)
    assert "data collection 'measures'" in message
    assert r"'metrics_.*\.csv'" in message
    assert state(server, "Bad pattern") == before


def test_missing_location_names_workflow_and_location(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    config = advanced_project(tmp_path, "Bad location", "wf_loc", {"labels": "labels.csv"})
    write_runs(config.parent, {"run_a": {"labels.csv": LABELS}})
    ingest(cli, config)
    before = state(server, "Bad location")
    advanced_project(tmp_path, "Bad location", "wf_loc", {"labels": "labels.csv"}, "no_runs")
    message = refused(cli, config)
    assert "workflow 'wf_loc'" in message
    assert f"'{(tmp_path / 'no_runs').resolve()}' does not exist" in message
    assert state(server, "Bad location") == before


def test_wrong_token_is_refused(cli: Cli, server: Server, tmp_path: Path) -> None:
    config = basic_project(tmp_path, "Bad token", {"table": ("table.csv", "CSV")})
    table = config.parent / "table.csv"
    table.write_text(LABELS)
    ingest(cli, config)
    before = state(server, "Bad token")
    table.write_text("id,label\n5,changed\n")
    message = refused(Cli(cli.gateway_url, cli.config_home, "dpt_not_a_real_token"), config)
    assert "401" in message and "credentials" in message
    assert state(server, "Bad token") == before


class CuttingProxy:
    """A loopback TCP relay to the gateway that closes a connection, both ways, once
    `cut_after` bytes of an upload request (from "/upload" on) went upstream."""

    def __init__(self, upstream: tuple[str, int], cut_after: int) -> None:
        self.upstream = upstream
        self.cut_after = cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.cut = threading.Event()
        self.stopping = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads = [threading.Thread(target=self.accept, daemon=True)]
        self.threads[0].start()

    def accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            gateway = socket.create_connection(self.upstream)
            self.sockets += [client, gateway]
            for source, target, watch in ((client, gateway, True), (gateway, client, False)):
                thread = threading.Thread(
                    target=self.relay, args=(source, target, watch), daemon=True
                )
                self.threads.append(thread)
                thread.start()

    def relay(self, source: socket.socket, target: socket.socket, watch: bool) -> None:
        tail = b""
        sent = -1  # bytes of the upload request so far; -1 until "/upload" went by
        try:
            while chunk := source.recv(65536):
                if watch and sent < 0:
                    window = tail + chunk
                    if b"/upload" in window:
                        sent = len(window) - window.index(b"/upload")
                    tail = window[-16:]
                elif watch:
                    sent += len(chunk)
                if sent > self.cut_after:
                    self.cut.set()
                    return
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            close(source, target)

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.threads[0].join(timeout=10)  # no connection is added after this
        close(*self.sockets)
        for thread in self.threads:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in self.threads)


def close(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


@pytest.fixture
def proxy(cli_stack: Stack) -> Iterator[CuttingProxy]:
    address = urlsplit(cli_stack.gateway_url)
    assert address.hostname is not None and address.port is not None
    relay = CuttingProxy((address.hostname, address.port), cut_after=2 * 1024 * 1024)
    yield relay
    relay.stop()


def test_gateway_gone_mid_upload_changes_nothing(
    cli: Cli, server: Server, tmp_path: Path, proxy: CuttingProxy
) -> None:
    config = basic_project(tmp_path, "Bad gateway", {"big": ("big.csv", "CSV")})
    table = config.parent / "big.csv"
    table.write_text(MEASURES)
    ingest(cli, config)
    before = state(server, "Bad gateway")

    rows = 750_000
    lines = (
        f"{i},{i * 7 % 10007},{i * 31 % 100003},{i % 97},{i * 13 % 1000003}" for i in range(rows)
    )
    table.write_text("id,x,y,z,w\n" + "\n".join(lines) + "\n")
    assert table.stat().st_size > 20_000_000
    through_proxy = Cli(proxy.url, cli.config_home, cli.token)
    message = refused(through_proxy, config)
    assert proxy.cut.is_set(), "the upload was never cut"
    assert f"cannot reach the gateway at {proxy.url}" in message
    assert "/upload" in message
    assert state(server, "Bad gateway") == before
