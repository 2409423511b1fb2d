"""Invoices: drafts built from charge items, issued under gapless yearly numbers, paid, or voided.

Offers drafts, issuing and voiding, reads and their views and PDF, and for payments the locking of
an invoice (`lock_invoice`, `invoice_in_scope`) and its settlement status (`settle_status`).
"""

from billing.invoices.drafts import create_draft, delete_draft, remove_line, update_draft, update_line
from billing.invoices.issuing import issue_invoice, void_invoice
from billing.invoices.loading import invoice_in_scope, lock_invoice

# Exposed for joins: payments, adjudication, accounts and reports read invoices and their lines.
from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from billing.invoices.pdf import render_invoice
from billing.invoices.queries import get_invoice, list_invoices
from billing.invoices.schemas import InvoiceCreate, InvoiceRead, InvoiceUpdate, InvoiceVoid, LineUpdate
from billing.invoices.totals import settle_status
from billing.invoices.views import invoice_view

__all__ = [
    "Invoice",
    "InvoiceCreate",
    "InvoiceLine",
    "InvoiceRead",
    "InvoiceStatus",
    "InvoiceUpdate",
    "InvoiceVoid",
    "LineUpdate",
    "create_draft",
    "delete_draft",
    "get_invoice",
    "invoice_in_scope",
    "invoice_view",
    "issue_invoice",
    "list_invoices",
    "lock_invoice",
    "remove_line",
    "render_invoice",
    "settle_status",
    "update_draft",
    "update_line",
    "void_invoice",
]
