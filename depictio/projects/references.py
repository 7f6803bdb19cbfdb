"""Finding a project config's data collections by tag or id, as joins and links name them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from depictio.projects.config_models import DataCollectionConfig, ProjectConfig


@dataclass(frozen=True)
class DataCollectionEntry:
    """One data collection of a config, where it sits and the id it has (or will have)."""

    path: str
    workflow_index: int | None
    workflow_name: str | None
    config: DataCollectionConfig
    id: str | None

    @property
    def tag(self) -> str:
        return self.config.data_collection_tag


def iter_data_collections(
    config: ProjectConfig,
) -> Iterator[tuple[str, int | None, str | None, DataCollectionConfig]]:
    """(path, workflow index, workflow name, data collection) of every data collection."""
    for index, dc in enumerate(config.data_collections):
        yield f"data_collections[{index}]", None, None, dc
    for w_index, workflow in enumerate(config.workflows):
        for index, dc in enumerate(workflow.data_collections):
            yield (
                f"workflows[{w_index}].data_collections[{index}]",
                w_index,
                workflow.name,
                dc,
            )


class DataCollectionIndex:
    """The data collections of a config, found by id, by 'tag' or by 'workflow.tag'."""

    def __init__(self, config: ProjectConfig, ids: Sequence[str | None] | None = None) -> None:
        found = list(iter_data_collections(config))
        assigned = list(ids) if ids is not None else [dc.id for *_, dc in found]
        self.entries = [
            DataCollectionEntry(path, w_index, w_name, dc, dc_id)
            for (path, w_index, w_name, dc), dc_id in zip(found, assigned, strict=True)
        ]

    def by_id(self, dc_id: str) -> DataCollectionEntry | None:
        """The data collection with this id, if any."""
        return next((entry for entry in self.entries if entry.id == dc_id), None)

    def by_tag(self, reference: str, workflow_name: str | None = None) -> DataCollectionEntry:
        """The data collection a tag names; raises LookupError saying why none or many match.

        `reference` is 'tag' or 'workflow.tag'; `workflow_name` narrows a plain tag.
        """
        scope = workflow_name
        tag = reference
        if scope is None and "." in reference:
            prefix, _, rest = reference.partition(".")
            if any(entry.workflow_name == prefix for entry in self.entries):
                scope, tag = prefix, rest
        matches = [
            entry
            for entry in self.entries
            if entry.tag == tag and (scope is None or entry.workflow_name == scope)
        ]
        if not matches:
            where = f" in workflow '{scope}'" if scope else ""
            known = ", ".join(sorted({entry.tag for entry in self.entries})) or "none"
            raise LookupError(f"no data collection '{tag}'{where} (known tags: {known})")
        if len(matches) > 1:
            workflows = ", ".join(sorted(str(entry.workflow_name) for entry in matches))
            raise LookupError(
                f"'{tag}' is a tag in several workflows ({workflows}): write 'workflow.{tag}'"
            )
        return matches[0]

    def resolve(
        self, dc_id: str | None, dc_tag: str | None, workflow_name: str | None = None
    ) -> DataCollectionEntry:
        """The data collection an id or a tag names (exactly one of them must be given)."""
        if bool(dc_id) == bool(dc_tag):
            raise LookupError("give exactly one of the id and the tag")
        if dc_id:
            entry = self.by_id(dc_id)
            if entry is None:
                raise LookupError(f"no data collection with id '{dc_id}'")
            return entry
        assert dc_tag is not None
        return self.by_tag(dc_tag, workflow_name)
