"""Charge items: what was done for a patient, priced from the fee schedule, waiting to be invoiced.

Offers charging a finished encounter (`charge_encounter`), staff-entered charges and their lists,
the schemas of both, and `audit_charge` for the corrections in `billing.charge_corrections`.
"""

from billing.charges.from_encounter import charge_encounter

# Exposed for joins: claims, invoices, adjudication and the accounts are built from charge items.
from billing.charges.models import ChargeItem
from billing.charges.schemas import (
    ChargeRead,
    ChargeUpdate,
    EncounterCharges,
    EncounterChargesRead,
    ManualCharge,
)
from billing.charges.service import CHARGE_RESOURCE, audit_charge, create_manual_charge, list_charges

__all__ = [
    "CHARGE_RESOURCE",
    "ChargeItem",
    "ChargeRead",
    "ChargeUpdate",
    "EncounterCharges",
    "EncounterChargesRead",
    "ManualCharge",
    "audit_charge",
    "charge_encounter",
    "create_manual_charge",
    "list_charges",
]
