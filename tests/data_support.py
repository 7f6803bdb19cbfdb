"""What the data service tests share: a linked project with members, typed clients, tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from metadata_support import metadata, new_user, run, unique_config

from depictio.clients.data import DataClient

# The fixture's direct link alone (its second, a pattern link, would empty every result here).
DIRECT_LINK = {
    "source_dc_tag": "soil_samples",
    "source_column": "sample",
    "target_dc_tag": "taxa_abundance",
    "target_type": "table",
    "link_config": {"resolver": "direct", "target_field": "sample"},
    "enabled": True,
}


@dataclass
class People:
    """Access tokens of a project's owner, editor and viewer, and of an outsider."""

    owner: str
    editor: str
    viewer: str
    outsider: str


@dataclass
class LinkedProject:
    """The linked_tables fixture project: samples (source) → abundance (target) by sample."""

    id: str
    samples: str
    abundance: str
    people: People


def linked_project(stack: Any) -> LinkedProject:
    """A fresh linked_tables project with an editor and a viewer, and an outsider."""
    tokens = {name: new_user(stack, name) for name in ("owner", "editor", "viewer", "outsider")}

    async def create() -> Any:
        client = metadata(stack, tokens["owner"][2])
        config = unique_config("linked_tables.yaml", links=[DIRECT_LINK])
        project = await client.create_project(config)
        for role in ("editor", "viewer"):
            user_id, email, _ = tokens[role]
            await client.set_member(project.id, user_id, role, email)
        return project

    project = run(create)
    by_tag = {
        dc.data_collection_tag: dc.id
        for workflow in project.workflows
        for dc in workflow.data_collections
    }
    return LinkedProject(
        id=project.id,
        samples=by_tag["soil_samples"],
        abundance=by_tag["taxa_abundance"],
        people=People(*(tokens[name][2] for name in ("owner", "editor", "viewer", "outsider"))),
    )


def data(stack: Any, token: str = "", flight: bool = True) -> DataClient:
    """A data_svc client acting as the holder of `token`; its scans go through data_svc's
    Flight endpoint unless `flight` is False (then through the Scan RPC)."""
    flight_target = stack.data_flight_addr if flight else ""
    return DataClient(stack.data_addr, token=token, flight_target=flight_target)


SAMPLES = pa.table(
    {
        "sample": ["s1", "s2", "s3", "s4"],
        "site": ["north", "north", "south", "east"],
        "ph": [6.5, 7.1, 5.9, 8.0],
    }
)
ABUNDANCE = pa.table(
    {
        "sample": ["s1", "s1", "s2", "s3", "s4", "s4"],
        "taxon": ["Bacillus", "Nostoc", "Bacillus", "Nostoc", "Bacillus", "Nostoc"],
        "abundance": [0.4, 0.6, 0.9, 0.1, 0.3, 0.7],
    }
)


# Rows of the big table of the stalled-reader tests: more than a stalled Scan used to buffer
# (16 groups of 4 MiB) before holding its thread.
BIG_ROWS = 6_000_000


def project_with_a_big_table(stack: Any) -> LinkedProject:
    """A fresh linked project whose samples table holds BIG_ROWS rows (id, x, y) and whose
    abundance table holds ABUNDANCE."""
    project = linked_project(stack)
    editor = data(stack, project.people.editor)
    rows = np.arange(BIG_ROWS)
    big = pa.table({"id": rows, "x": rows * 0.5, "y": rows % 7})
    run(lambda: editor.write_table(project.samples, big, run_id="big"))
    run(lambda: editor.write_table(project.abundance, ABUNDANCE, run_id="small"))
    return project
