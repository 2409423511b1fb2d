"""Fee schedule: billable services (procedures, consultations by duration band, lab tests) and dated prices.

Offers the schedule's service functions and schemas (with the shared `Code`, `Currency` and
`TaxRate` types), and `price_on`, the price of a service on a day.
"""

# Exposed for joins: pricing a charge reads the billable service.
from billing.fees.models import BillableService, ServiceKind
from billing.fees.schemas import (
    Code,
    Currency,
    PriceCreate,
    PriceRead,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
    TaxRate,
)
from billing.fees.service import add_price, create_service, list_services, price_on, update_service

__all__ = [
    "BillableService",
    "Code",
    "Currency",
    "PriceCreate",
    "PriceRead",
    "ServiceCreate",
    "ServiceKind",
    "ServiceRead",
    "ServiceUpdate",
    "TaxRate",
    "add_price",
    "create_service",
    "list_services",
    "price_on",
    "update_service",
]
