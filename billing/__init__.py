"""Billing: fee schedule, charge items, invoices, payments, refunds and insurance claims."""
