"""Insurance: payers, patients' coverages, and claims built from encounters, exported as X12 837P and FHIR.

Offers payers and coverages, claims (create, read, list, submit, record the payer's response,
discard) with their schemas and exports, and `held_charge_ids`: the charges a claim still holds,
which invoicing leaves alone.
"""

from billing.insurance.claims import (
    audit_claim,
    create_claim,
    discard_draft,
    load_claim,
    read_claim,
    record_response,
    submit_claim,
)
from billing.insurance.exceptions import ClaimStateConflict
from billing.insurance.export import claim_document, claim_view, exact_json
from billing.insurance.fhir_claim import claim_resource
from billing.insurance.holds import AWAITING_PAYER, held_charge_ids

# Exposed for joins: adjudication, accounts, reports, the worklist and charge corrections read claims.
from billing.insurance.models import Claim, ClaimLine, Payer
from billing.insurance.payers import add_coverage, cancel_coverage, create_payer, list_coverages, list_payers
from billing.insurance.provider_settings import ProviderSettings, load_provider_settings
from billing.insurance.queries import MAX_PAGE_SIZE, list_claims
from billing.insurance.schemas import (
    Adjudication,
    ClaimCreate,
    ClaimRead,
    ClaimResponse,
    CoverageCreate,
    CoverageRead,
    LineAdjudication,
    PayerCreate,
    PayerRead,
)
from billing.insurance.terms import ADJUDICABLE, ClaimStatus
from billing.insurance.x12_837p import write_837p

__all__ = [
    "ADJUDICABLE",
    "AWAITING_PAYER",
    "MAX_PAGE_SIZE",
    "Adjudication",
    "Claim",
    "ClaimCreate",
    "ClaimLine",
    "ClaimRead",
    "ClaimResponse",
    "ClaimStateConflict",
    "ClaimStatus",
    "CoverageCreate",
    "CoverageRead",
    "LineAdjudication",
    "Payer",
    "PayerCreate",
    "PayerRead",
    "ProviderSettings",
    "add_coverage",
    "audit_claim",
    "cancel_coverage",
    "claim_document",
    "claim_resource",
    "claim_view",
    "create_claim",
    "create_payer",
    "discard_draft",
    "exact_json",
    "held_charge_ids",
    "list_claims",
    "list_coverages",
    "list_payers",
    "load_claim",
    "load_provider_settings",
    "read_claim",
    "record_response",
    "submit_claim",
    "write_837p",
]
