"""Billing reports: accounts-receivable ageing and revenue by period, payer and service, in SQL.

Offers `ageing` and `revenue`, with their schemas.
"""

from billing.reports.schemas import AgeingReport, Granularity, RevenueReport
from billing.reports.service import ageing, revenue

__all__ = [
    "AgeingReport",
    "Granularity",
    "RevenueReport",
    "ageing",
    "revenue",
]
