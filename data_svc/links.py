"""Filters reaching other data collections through the project's links (≤ 3 hops).

A link S.column → T.column carries S's filter to T: the distinct values of S.column among the
rows S's (effective) filter keeps become an `in` filter on T.column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from depictio.errors import FailedPrecondition
from depictio.filters import all_of, in_filter, is_empty
from depictio.v1 import common_pb2, metadata_pb2

MAX_HOPS = 3
SUPPORTED_RESOLVERS = ("direct", "sample_mapping", "pattern")

# (data collection id, column, filter) → the distinct values of the column under the filter.
ValuesOf = Callable[[str, str, common_pb2.Filter], list[object]]


@dataclass(frozen=True)
class LinkSpec:
    """One enabled link between two data collections' columns."""

    source: str
    source_column: str
    target: str
    target_column: str
    resolver: str = "direct"
    mappings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pattern: str = ""

    @classmethod
    def from_pb(cls, link: metadata_pb2.Link) -> LinkSpec:
        """The spec of a metadata Link."""
        return cls(
            source=link.source_data_collection_id,
            source_column=link.source_column,
            target=link.target_data_collection_id,
            target_column=link.target_field or link.source_column,
            resolver=link.resolver or "direct",
            mappings={key: tuple(v.values) for key, v in link.mappings.items()},
            pattern=link.pattern,
        )

    def translate(self, values: Iterable[object]) -> Sequence[object]:
        """The target values matching the source values."""
        if self.resolver == "direct":
            return list(values)
        if self.resolver == "sample_mapping":
            return sorted({t for v in values for t in self.mappings.get(str(v), (str(v),))})
        if self.resolver == "pattern" and "{sample}" in self.pattern:
            return sorted({self.pattern.replace("{sample}", str(v)) for v in values})
        raise FailedPrecondition(
            f"link {self.source}.{self.source_column} → {self.target}.{self.target_column}: "
            f"resolver {self.resolver!r} is not supported (supported: "
            f"{', '.join(SUPPORTED_RESOLVERS)})"
        )


def project_links(project: metadata_pb2.Project) -> list[LinkSpec]:
    """The project's enabled table links."""
    return [
        LinkSpec.from_pb(link)
        for link in project.links
        if link.enabled and link.target_type in ("", "table")
    ]


def effective_filter(
    target: str,
    filters: Mapping[str, common_pb2.Filter],
    links: Iterable[LinkSpec],
    values_of: ValuesOf,
    max_hops: int = MAX_HOPS,
) -> common_pb2.Filter:
    """Target's own filter AND the `in` filters its linked data collections' filters imply."""
    resolver = _Resolver(filters, list(links), values_of)
    return resolver.resolve(target, max_hops, frozenset({target}))


class _Resolver:
    """Resolves effective filters, asking for each source's values at most once."""

    def __init__(
        self, filters: Mapping[str, common_pb2.Filter], links: list[LinkSpec], values_of: ValuesOf
    ) -> None:
        self.filters = filters
        self.links = links
        self.values_of = values_of
        self.values: dict[tuple[str, str, bytes], list[object]] = {}

    def resolve(self, dc: str, hops: int, visited: frozenset[str]) -> common_pb2.Filter:
        parts = [self.filters.get(dc, common_pb2.Filter())]
        if hops > 0:
            for link in self.links:
                if link.target != dc or link.source in visited:
                    continue
                upstream = self.resolve(link.source, hops - 1, visited | {link.source})
                if is_empty(upstream):
                    continue
                key = (
                    link.source,
                    link.source_column,
                    upstream.SerializeToString(deterministic=True),
                )
                if key not in self.values:
                    self.values[key] = self.values_of(link.source, link.source_column, upstream)
                parts.append(in_filter(link.target_column, link.translate(self.values[key])))
        return all_of(parts)
