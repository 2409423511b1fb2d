"""Clinical and scheduling reports: demographics, appointments, utilisation, no-shows, consultation times.

Each report is one aggregate query (computed in the database) returning a `core.reports.Report`;
access control and auditing happen in `api/routers/analytics.py`, which serves every domain's reports.
"""
