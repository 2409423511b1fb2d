"""A resource type served from several tables (e.g. problem-list Conditions and encounter diagnoses).

Results are the sources' results one after another, so a page needs at most the rows it shows from
each source (a count per source tells where the page starts) rather than a merge of all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import func, select

from clinical.fhir.provider import (
    FhirContext,
    Page,
    RecordFilter,
    Rendered,
    ResourceProvider,
    TableProvider,
    apply_criteria,
    sort_columns,
)
from clinical.fhir.search.request import SearchParameter, SearchRequest
from core.errors import NotFound


class CompositeProvider(ResourceProvider):
    """Concatenates sources that share one resource type and one set of search-parameter names."""

    sources: ClassVar[Sequence[type[TableProvider]]]

    def _sources(self) -> list[TableProvider]:
        return [source() for source in self.sources]

    def parameters(self) -> Mapping[str, SearchParameter]:
        return self._sources()[0].parameters()

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        for source in self._sources():
            try:
                return await source.read(ctx, resource_id)
            except NotFound:
                continue
        raise NotFound(f"There is no {self.resource_type} with id '{resource_id}'.")

    async def search(self, ctx: FhirContext, request: SearchRequest) -> Page:
        if request.sort:
            return await self._sorted_search(ctx, request)
        total, items = 0, []
        skip, room = request.offset, request.count
        for source in self._sources():
            if not source.applies(request, ctx.principal):
                continue
            query = apply_criteria(
                source.scope(source.base_query(ctx.principal), ctx.principal), request, source.parameters()
            )
            count = int(
                await ctx.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
                or 0
            )
            total += count
            if room > 0 and skip < count:
                ordered = query.order_by(*source.order, source.tiebreak()).offset(skip).limit(room)
                rows: list[Any] = list(await ctx.session.scalars(ordered))
                items += await source.render(ctx, rows)
                room -= len(rows)
            skip = max(0, skip - count)
        return Page(total=total, items=items)

    async def _sorted_search(self, ctx: FhirContext, request: SearchRequest) -> Page:
        """`_sort` across sources: each gives its first offset + count rows in order; they are merged."""
        window = request.offset + request.count
        total, candidates = 0, []
        for source in self._sources():
            if not source.applies(request, ctx.principal):
                continue
            parameters = source.parameters()
            query = apply_criteria(
                source.scope(source.base_query(ctx.principal), ctx.principal), request, parameters
            )
            total += int(
                await ctx.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
                or 0
            )
            keys = [parameters[key.name].sort for key in request.sort]
            ordered = query.add_columns(*keys).order_by(*sort_columns(request, parameters), *source.order)
            rows = list(await ctx.session.execute(ordered.limit(window)))
            rendered = await source.render(ctx, [row[0] for row in rows])
            candidates += [(tuple(row[1:]), item) for row, item in zip(rows, rendered, strict=True)]
        for position in reversed(range(len(request.sort))):
            # Stable sorts from the last key to the first give the whole order; missing values go last.
            descending = request.sort[position].descending
            present = [c for c in candidates if c[0][position] is not None]
            missing = [c for c in candidates if c[0][position] is None]
            present.sort(key=lambda c: c[0][position], reverse=descending)
            candidates = present + missing
        return Page(total=total, items=[item for _, item in candidates[request.offset : window]])

    async def for_patient(
        self, ctx: FhirContext, patient_id: uuid.UUID, *, record: RecordFilter
    ) -> list[Rendered]:
        items: list[Rendered] = []
        for source in self._sources():
            items += await source.for_patient(ctx, patient_id, record=record)
        return items
