"""Billing reports: accounts-receivable ageing and revenue by period, payer and service, in SQL."""
