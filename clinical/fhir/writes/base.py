"""What a writer of one resource type offers, and building domain schemas from FHIR elements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from clinical.fhir.errors import InvalidResource, MethodNotAllowed
from clinical.fhir.provider import FhirContext

Schema = TypeVar("Schema", bound=BaseModel)


class Writer(ABC):
    """Writes one resource type through its domain service."""

    resource_type: ClassVar[str]
    # What the CapabilityStatement declares (and `delete` below refuses otherwise).
    can_update: ClassVar[bool] = True
    can_delete: ClassVar[bool] = False
    refusal: ClassVar[str] = ""

    @abstractmethod
    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        """Creates what the resource describes; returns the new resource's id."""

    async def update(self, ctx: FhirContext, resource_id: str, resource: dict[str, Any]) -> None:
        """Makes the stored resource say what `resource` says."""
        raise MethodNotAllowed(f"{self.resource_type} cannot be updated here. {self.refusal}".strip())

    async def delete(self, ctx: FhirContext, resource_id: str) -> None:
        """Removes the resource as the domain allows (usually: marks it entered in error)."""
        raise MethodNotAllowed(f"{self.resource_type} cannot be deleted here. {self.refusal}".strip())


def build(schema: type[Schema], **fields: Any) -> Schema:
    """The domain schema of `fields`; its validation errors become a 400 naming each field."""
    try:
        return schema(**fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or 'resource'}: {e.get('msg')}"
            for e in error.errors()
        )
        raise InvalidResource(f"The resource does not say what is needed: {problems}.") from None
