"""What every resource type offers (read, search, everything-for-a-patient), and the table-backed base.

A provider is stateless: it holds only its search-parameter definitions. The caller's principal scopes
every query; a patient's query can only ever return rows of their own record.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir.errors import InvalidSearch, OtherPatientsResource
from clinical.fhir.search.clauses import id_clause, parse_uuid
from clinical.fhir.search.request import SearchParameter, SearchRequest
from clinical.fhir.search.values import ParamType
from core.errors import NotFound
from core.principal import Principal


@dataclass(frozen=True, slots=True)
class FhirContext:
    """Who asks, in which unit of work, and the base URL resources are addressed under."""

    session: AsyncSession
    principal: Principal
    base_url: str
    # Where documents written through FHIR are stored (clinical.documents.storage), for writes.
    storage: Any = None
    document_max_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Rendered:
    """A FHIR resource and the patient it is about (None for non-clinical resources)."""

    resource: dict[str, Any]
    patient_id: uuid.UUID | None
    # False for computed (free Slots) and immutable (device readings) resources: always version 1.
    versioned: bool = True


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What `$everything` keeps of a patient's record: care dates in [start, end), changes since."""

    limit: int
    start: datetime | None = None
    end: datetime | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    items: list[Rendered]


class ResourceProvider(ABC):
    """One FHIR resource type."""

    resource_type: ClassVar[str]
    # Patient data is scoped to the caller and audited; directory data (practitioners, slots) is not.
    patient_data: ClassVar[bool] = True
    # A note for the CapabilityStatement.
    documentation: ClassVar[str] = ""

    @abstractmethod
    def parameters(self) -> Mapping[str, SearchParameter]:
        """The search parameters this type supports (`_id` included)."""

    @abstractmethod
    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        """The resource with `resource_id`; NotFound, or Forbidden when it is another patient's."""

    @abstractmethod
    async def search(self, ctx: FhirContext, request: SearchRequest) -> Page:
        """One page of matches, scoped to what the caller may see."""

    async def for_patient(
        self, ctx: FhirContext, patient_id: uuid.UUID, *, record: RecordFilter
    ) -> list[Rendered]:
        """Every resource of this type about one patient (for `$everything`); none by default."""
        return []


class TableProvider(ResourceProvider):
    """A resource type backed by one table (plus what `render` loads beside it)."""

    model: ClassVar[Any]
    # The column naming the patient a row belongs to; None for directory data.
    order: ClassVar[Sequence[Any]] = ()
    # When the care a row records happened (`$everything`'s start and end); None for undated rows.
    dated_by: ClassVar[Any] = None

    def patient_column(self) -> Any | None:
        """The column holding the row's patient id, used to scope patients' queries."""
        return None

    def tiebreak(self) -> Any:
        """The last sort key, making the order (and so paging) stable: the primary key."""
        return self.model.id

    def care_date(self) -> Any | None:
        """The column `$everything`'s start and end filter on (when care happened); None: not dated."""
        return type(self).dated_by  # read off the class: a mapped attribute is a descriptor

    def last_changed(self) -> Any:
        """The column `$everything`'s `_since` filters on: when the row last changed."""
        return getattr(self.model, "updated_at", None) or self.model.created_at

    def applies(self, request: SearchRequest, principal: Principal) -> bool:
        """Whether this source takes part in a search (a composite may skip costly sources)."""
        return True

    def base_query(self, principal: Principal) -> Select[Any]:
        """All rows this type serves before scoping (override to hide rows, e.g. unreleased results)."""
        return select(self.model)

    def search_parameters(self) -> dict[str, SearchParameter]:
        """The type's own parameters; `_id` is added by `parameters()`."""
        return {}

    def parameters(self) -> Mapping[str, SearchParameter]:
        id_parameter = SearchParameter("_id", ParamType.TOKEN, "Logical id", id_clause(self.model.id))
        return {"_id": id_parameter, **self.search_parameters()}

    @abstractmethod
    async def render(self, ctx: FhirContext, rows: Sequence[Any]) -> list[Rendered]:
        """The FHIR resources of `rows`, in order (batch-load related rows here)."""

    def scope(self, query: Select[Any], principal: Principal) -> Select[Any]:
        """`query` limited to the caller's own rows (a patient, or an app launched with a patient)."""
        column = self.patient_column()
        if column is None or principal.sees_every_patient(self.resource_type):
            return query
        patient_id = principal.only_patient(self.resource_type)
        if patient_id is None:
            return query.where(false())
        return query.where(column == patient_id)

    async def read(self, ctx: FhirContext, resource_id: str) -> Rendered:
        key = parse_uuid(resource_id)
        row = None
        if key is not None:
            row = await ctx.session.scalar(self.base_query(ctx.principal).where(self.model.id == key))
        if row is None:
            raise NotFound(f"There is no {self.resource_type} with id '{resource_id}'.")
        return self.owned(ctx, (await self.render(ctx, [row]))[0])

    def owned(self, ctx: FhirContext, rendered: Rendered) -> Rendered:
        """`rendered`, unless it is another patient's (refused, so that the refusal is audited)."""
        owner = rendered.patient_id
        if (
            self.patient_data
            and owner is not None
            and not ctx.principal.may_access_patient(owner, resource_type=self.resource_type)
        ):
            raise OtherPatientsResource(
                f"This {self.resource_type} belongs to another patient's record.", patient_id=owner
            )
        return rendered

    async def search(self, ctx: FhirContext, request: SearchRequest) -> Page:
        query = self.scope(self.base_query(ctx.principal), ctx.principal)
        query = apply_criteria(query, request, self.parameters())
        total = await ctx.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        ordered = query.order_by(*sort_columns(request, self.parameters()), *self.order, self.tiebreak())
        rows = list(await ctx.session.scalars(ordered.offset(request.offset).limit(request.count)))
        return Page(total=int(total or 0), items=await self.render(ctx, rows))

    async def for_patient(
        self, ctx: FhirContext, patient_id: uuid.UUID, *, record: RecordFilter
    ) -> list[Rendered]:
        column = self.patient_column()
        if column is None:
            return []
        query = self.base_query(ctx.principal).where(column == patient_id)
        care = self.care_date()
        if care is not None and record.start is not None:
            query = query.where(care >= record.start)
        if care is not None and record.end is not None:
            query = query.where(care < record.end)
        if record.since is not None:
            query = query.where(self.last_changed() >= record.since)
        ordered = query.order_by(*self.order, self.tiebreak()).limit(record.limit)
        return await self.render(ctx, list(await ctx.session.scalars(ordered)))


def apply_criteria(
    query: Select[Any], request: SearchRequest, parameters: Mapping[str, SearchParameter]
) -> Select[Any]:
    """`query` with one WHERE per criterion (criteria AND, the values of one criterion OR)."""
    for criterion in request.criteria:
        parameter = parameters[criterion.name]
        if parameter.clause is None:
            raise InvalidSearch(f"The parameter '{criterion.name}' cannot be combined here.")
        clause: ColumnElement[bool]
        if criterion.chain is not None and parameter.column is not None:
            # `patient.identifier=X`: rows whose patient is one of the patients matching X.
            chained = criterion.chain.parameter.clause
            assert chained is not None  # checked when the request was parsed
            targets = select(criterion.chain.target_id).where(chained(criterion.values))
            clause = parameter.column.in_(targets)
        else:
            clause = parameter.clause(criterion.values)
        query = query.where(clause)
    return query


def sort_columns(request: SearchRequest, parameters: Mapping[str, SearchParameter]) -> list[Any]:
    """The ORDER BY of `_sort` (before the provider's own order, which breaks ties)."""
    columns = [parameters[key.name].sort for key in request.sort]
    return [c.desc() if key.descending else c.asc() for c, key in zip(columns, request.sort, strict=True)]
