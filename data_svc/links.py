"""Filters reaching other data collections through the project's links (≤ 3 hops).

A link S.column → T.column carries S's filter to T: the distinct values of S.column among the
rows S's (effective) filter keeps become an `in` filter on T.column.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from depictio.errors import FailedPrecondition, InvalidArgument
from depictio.filters import all_of, filter_expression, in_filter, is_empty
from depictio.v1 import common_pb2, metadata_pb2

MAX_HOPS = 3
SUPPORTED_RESOLVERS = ("direct", "sample_mapping", "pattern", "regex", "wildcard")
# Resolvers that match the target column's own values against patterns made from each
# source value (its `{sample}` placeholder replaced by the value).
MATCHING_RESOLVERS = ("regex", "wildcard")

# (data collection id, column, filter) → the distinct values of the column under the filter.
ValuesOf = Callable[[str, str, common_pb2.Filter], list[object]]
# The columns of a data collection's table, with their types.
SchemaOf = Callable[[str], Mapping[str, pl.DataType]]


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

    def translate(
        self, values: Iterable[object], target_values: Callable[[], list[object]]
    ) -> Sequence[object]:
        """The target values matching the source values.

        `regex`: target values that fully match the pattern with `{sample}` replaced by a
        source value (escaped); `wildcard`: the same with a shell-style pattern (`*`, `?`,
        `[…]`). Both ask for the target column's distinct values (`target_values`).
        """
        if self.resolver == "direct":
            return list(values)
        if self.resolver == "sample_mapping":
            return sorted({t for v in values for t in self.mappings.get(str(v), (str(v),))})
        if self.resolver in ("pattern", *MATCHING_RESOLVERS) and "{sample}" not in self.pattern:
            raise FailedPrecondition(
                f"{self.describe()}: resolver {self.resolver!r} needs a pattern with "
                f"{{sample}}, got {self.pattern!r}"
            )
        if self.resolver == "pattern":
            return sorted({self.pattern.replace("{sample}", str(v)) for v in values})
        if self.resolver in MATCHING_RESOLVERS:
            matcher = self._matcher([str(v) for v in values])
            if matcher is None:
                return []
            return [t for t in target_values() if matcher.fullmatch(str(t))]
        raise FailedPrecondition(
            f"{self.describe()}: resolver {self.resolver!r} is not supported (supported: "
            f"{', '.join(SUPPORTED_RESOLVERS)})"
        )

    def describe(self) -> str:
        return f"link {self.source}.{self.source_column} → {self.target}.{self.target_column}"

    def _matcher(self, values: list[str]) -> re.Pattern[str] | None:
        """One regular expression matching what any source value's pattern matches."""
        head, _, tail = self.pattern.partition("{sample}")
        if self.resolver == "wildcard":
            # fnmatch.translate anchors with \Z; the parts are joined around the value.
            def part(text: str) -> str:
                return fnmatch.translate(text).removeprefix("(?s:").removesuffix(")\\Z")

            alternatives = [part(head) + re.escape(v) + part(tail) for v in values]
        else:
            alternatives = [head + re.escape(v) + tail for v in values]
        if not alternatives:
            return None
        try:
            return re.compile("|".join(f"(?:{a})" for a in alternatives))
        except re.error as exc:
            raise FailedPrecondition(
                f"{self.describe()}: pattern {self.pattern!r} is not a valid regular "
                f"expression: {exc}"
            ) from exc


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
    schema_of: SchemaOf | None = None,
) -> common_pb2.Filter:
    """Target's own filter AND the `in` filters its linked data collections' filters imply.

    With `schema_of`, each link's `in` filter is checked against its target's columns: a link
    to a missing column, or between columns whose values cannot be compared, is a
    FailedPrecondition naming the link (a fault of the project's configuration, not of the
    request's filters)."""
    resolver = _Resolver(filters, list(links), values_of, schema_of)
    return resolver.resolve(target, max_hops, frozenset({target}))


class _Resolver:
    """Resolves effective filters, asking for each source's values at most once."""

    def __init__(
        self,
        filters: Mapping[str, common_pb2.Filter],
        links: list[LinkSpec],
        values_of: ValuesOf,
        schema_of: SchemaOf | None,
    ) -> None:
        self.filters = filters
        self.links = links
        self.values_of = values_of
        self.schema_of = schema_of
        self.values: dict[tuple[str, str, bytes], list[object]] = {}

    def _all_values_of(self, link: LinkSpec) -> Callable[[], list[object]]:
        """Asks for the distinct values of a link's target column (all rows) when called."""
        return lambda: self.values_of(link.target, link.target_column, common_pb2.Filter())

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
                translated = link.translate(self.values[key], self._all_values_of(link))
                carried = in_filter(link.target_column, translated)
                self._check(link, carried)
                parts.append(carried)
        return all_of(parts)

    def _check(self, link: LinkSpec, carried: common_pb2.Filter) -> None:
        """FailedPrecondition when `link`'s target cannot take the filter it carries."""
        if self.schema_of is None:
            return
        schema = self.schema_of(link.target)
        if link.target_column not in schema:
            raise FailedPrecondition(
                f"{link.describe()}: {link.target!r} has no column {link.target_column!r} "
                f"(it has {', '.join(sorted(schema))}); fix the link in the project's config"
            )
        try:
            filter_expression(carried, schema, "the linked values")
        except InvalidArgument as exc:
            raise FailedPrecondition(
                f"{link.describe()}: the values it carries do not fit {link.target!r}'s "
                f"column ({exc.message}); fix the link in the project's config"
            ) from exc
