"""Invoices: drafts built from charge items, issued under gapless yearly numbers, paid, or voided."""
