"""The invoice as a PDF (fpdf2), for the patient to download and keep."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from billing.invoices.models import Invoice
from clinical.patients import Patient

# DejaVu covers the names of every European language; without it we fall back to Helvetica (Latin-1).
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def format_amount(amount_minor: int, currency: str) -> str:
    """1234 EUR -> "12.34 EUR" (two decimals, which fits every currency we bill in but JPY-like ones)."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole:,}.{cents:02d} {currency}"


def render_invoice(invoice: Invoice, patient: Patient, *, issuer: str) -> bytes:
    """The PDF bytes (CPU-bound: callers run it in a thread)."""
    pdf, font = _document()
    pdf.set_font(font, "B", 16)
    pdf.cell(0, 10, f"{issuer} - Invoice {invoice.number or '(draft)'}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    for label, value in (
        ("Patient", f"{patient.given_name} {patient.family_name} (MRN {patient.mrn})"),
        ("Issued", invoice.issued_at.date().isoformat() if invoice.issued_at else "-"),
        ("Due", invoice.due_date.isoformat() if invoice.due_date else "-"),
        ("Status", invoice.status.value.replace("_", " ")),
    ):
        pdf.cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (22, 24, 66, 12, 26, 22, 26)
    with pdf.table(
        col_widths=widths, text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        table.row(("Date", "Code", "Description", "Qty", "Unit", "Tax", "Total"))
        for line in invoice.lines:
            table.row(
                (
                    line.service_date.isoformat() if line.service_date else "",
                    line.code,
                    line.description,
                    str(line.quantity),
                    format_amount(line.unit_price_minor, invoice.currency),
                    format_amount(line.tax_minor, invoice.currency),
                    format_amount(line.total_minor, invoice.currency),
                )
            )
    pdf.ln(4)
    for label, amount in (
        ("Subtotal", invoice.subtotal_minor),
        ("Discount", -invoice.discount_minor),
        ("Tax", invoice.tax_minor),
        ("Total", invoice.total_minor),
        ("Paid", invoice.paid_minor),
        ("Balance due", invoice.balance_minor),
    ):
        pdf.cell(150, 6, label, align="R")
        pdf.cell(0, 6, format_amount(amount, invoice.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _document() -> tuple[FPDF, str]:
    pdf = FPDF(format="A4")
    pdf.set_title("Invoice")
    pdf.set_creator("Ownat")
    pdf.add_page()
    if UNICODE_FONT.exists() and UNICODE_FONT_BOLD.exists():
        pdf.add_font("DejaVu", "", str(UNICODE_FONT))
        pdf.add_font("DejaVu", "B", str(UNICODE_FONT_BOLD))
        return pdf, "DejaVu"
    return pdf, "Helvetica"
