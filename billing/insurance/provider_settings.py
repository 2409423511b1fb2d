"""Who bills: the hospital's identity on claims, from `OWNAT_BILLING_PROVIDER_*` environment variables.

Unset, claims can still be drafted, submitted and adjudicated, and exported as FHIR; the 837P file
needs the NPI, tax id and address, and asks for them by name.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing.insurance.document import Address, BillingProvider
from billing.insurance.exceptions import ClaimNotExportable


class ProviderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OWNAT_BILLING_PROVIDER_", env_file=".env", extra="ignore")

    name: str = "Ownat Hospital"
    npi: str | None = Field(default=None, pattern=r"^\d{10}$")
    tax_id: str | None = Field(default=None, pattern=r"^\d{2}-?\d{7}$")
    taxonomy_code: str | None = None
    address_line1: str | None = None
    city: str | None = None
    region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    postal_code: str | None = None
    contact_name: str = "Billing Office"
    contact_phone: str | None = None
    # The id the clearinghouse knows us by (ISA06, NM1*41); ISA15 is P for production files, T for tests.
    submitter_id: str | None = None
    x12_usage: str = Field(default="P", pattern=r"^[PT]$")


def load_provider_settings(**overrides: object) -> ProviderSettings:
    """Reads the environment now; callers own the instance."""
    return ProviderSettings(**overrides)  # type: ignore[arg-type]


def billing_provider(settings: ProviderSettings, *, for_x12: bool) -> BillingProvider:
    """The billing provider; for the 837P, ClaimNotExportable naming each setting still missing."""
    required = (
        "npi",
        "tax_id",
        "address_line1",
        "city",
        "region",
        "postal_code",
        "contact_phone",
        "submitter_id",
    )
    missing = [f"OWNAT_BILLING_PROVIDER_{name.upper()}" for name in required if not getattr(settings, name)]
    if missing and for_x12:
        raise ClaimNotExportable(f"X12 export needs the billing provider's settings: {', '.join(missing)}.")
    return BillingProvider(
        name=settings.name,
        npi=settings.npi or "",
        tax_id=settings.tax_id or "",
        address=Address(
            line1=settings.address_line1 or "",
            city=settings.city or "",
            region=settings.region or "",
            postal_code=settings.postal_code or "",
        ),
        contact_name=settings.contact_name,
        contact_phone=settings.contact_phone or "",
        submitter_id=settings.submitter_id or "",
        taxonomy_code=settings.taxonomy_code,
    )
