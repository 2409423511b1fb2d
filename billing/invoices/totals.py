"""Line and invoice totals, in integer minor units: tax per line, rounded half up, then summed."""

from __future__ import annotations

from billing.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from billing.money import tax_on


def price_line(line: InvoiceLine) -> None:
    """Sets the line's tax and total from its quantity, unit price, discount and rate."""
    net = line.quantity * line.unit_price_minor - line.discount_minor
    line.tax_minor = tax_on(net, line.tax_rate_bp)
    line.total_minor = net + line.tax_minor


def total_invoice(invoice: Invoice) -> None:
    """Stores the invoice's totals from its lines (drafts only: issued totals never change)."""
    for line in invoice.lines:
        price_line(line)
    invoice.subtotal_minor = sum(line.quantity * line.unit_price_minor for line in invoice.lines)
    invoice.discount_minor = sum(line.discount_minor for line in invoice.lines)
    invoice.tax_minor = sum(line.tax_minor for line in invoice.lines)
    invoice.total_minor = invoice.subtotal_minor - invoice.discount_minor + invoice.tax_minor


def settle_status(invoice: Invoice) -> None:
    """The payment status that follows from what was paid (issued, partially paid or paid)."""
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        return
    if invoice.paid_minor >= invoice.total_minor:
        invoice.status = InvoiceStatus.PAID
    elif invoice.paid_minor > 0:
        invoice.status = InvoiceStatus.PARTIALLY_PAID
    else:
        invoice.status = InvoiceStatus.ISSUED
