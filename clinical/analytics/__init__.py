"""Clinical and scheduling reports: demographics, appointments, utilisation, no-shows, consultation times.

Each report is one aggregate query (computed in the database) returning a `core.reports.Report`;
access control and auditing happen in `api/routers/analytics.py`, which serves every domain's reports.

This module is the front door: the report catalogue imports the reports from here.
"""

from clinical.analytics.appointments import by_department, by_practitioner
from clinical.analytics.consultations import consultation_durations
from clinical.analytics.demographics import demographics

__all__ = [
    "by_department",
    "by_practitioner",
    "consultation_durations",
    "demographics",
]
