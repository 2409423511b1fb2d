"""The whole record as a PDF a person can read: drawn from the same FHIR bundle as the download for
systems (`$everything`), plus the conversations and the documents' list, which FHIR does not carry here.

CPU-bound (fpdf2): callers run `render_record` in a thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

# DejaVu covers the names of every European language; without it we fall back to Helvetica (Latin-1).
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
Resource = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConversationText:
    subject: str
    care_team: str
    lines: list[tuple[datetime, str, str]]  # when, who, what


@dataclass(frozen=True, slots=True)
class DocumentLine:
    title: str
    created_at: datetime
    filename: str


def _text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    codings = concept.get("coding") or [{}]
    return str(codings[0].get("display") or codings[0].get("code") or "")


def _day(value: Any) -> str:
    return str(value)[:10] if value else ""


def _when(value: Any) -> str:
    return str(value)[:16].replace("T", " ") if value else ""


def _quantity(quantity: Any) -> str:
    if not isinstance(quantity, dict) or quantity.get("value") is None:
        return ""
    return f"{quantity['value']:g} {quantity.get('unit', '')}".strip()


def _category(resource: Resource) -> str:
    return " ".join(_text(category) for category in resource.get("category", [])).lower()


class _Writer:
    def __init__(self, title: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_creator("Ownat")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.font = "Helvetica"
        if UNICODE_FONT.exists() and UNICODE_FONT_BOLD.exists():
            self.pdf.add_font("DejaVu", "", str(UNICODE_FONT))
            self.pdf.add_font("DejaVu", "B", str(UNICODE_FONT_BOLD))
            self.font = "DejaVu"

    def heading(self, text: str, size: int = 13) -> None:
        self.pdf.set_font(self.font, "B", size)
        self.pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(self.font, "", 9.5)

    def line(self, text: str) -> None:
        self.pdf.set_font(self.font, "", 9.5)
        self.pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")

    def section(self, title: str, header: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> None:
        self.pdf.ln(3)
        self.heading(title)
        rows = list(rows)
        if not rows:
            self.line(empty)
            return
        with self.pdf.table(text_align="LEFT", line_height=5) as table:
            self.pdf.set_font(self.font, "B", 9)
            table.row(header)
            self.pdf.set_font(self.font, "", 9)
            for row in rows:
                table.row([cell or "" for cell in row])


def render_record(
    bundle: Resource,
    *,
    generated_at: datetime,
    conversations: Sequence[ConversationText],
    documents: Sequence[DocumentLine],
) -> bytes:
    """The PDF bytes of the record in `bundle` (a FHIR `$everything` Bundle)."""
    by_type: dict[str, list[Resource]] = defaultdict(list)
    for entry in bundle.get("entry", []):
        by_type[entry["resource"]["resourceType"]].append(entry["resource"])
    patient = (by_type.get("Patient") or [{}])[0]
    name = _text((patient.get("name") or [{}])[0]) or "the patient"
    writer = _Writer(f"Health record of {name}")
    writer.heading(f"Health record of {name}", size=16)
    mrn = next((i.get("value") for i in patient.get("identifier", []) if "mrn" in str(i.get("system"))), "")
    writer.line(
        f"Born {_day(patient.get('birthDate')) or 'unknown'} · {mrn} · produced {_when(generated_at.isoformat())} UTC by Ownat"
    )
    writer.line("Times are in UTC. The same record is available as a FHIR R4 bundle for other systems.")
    _details(writer, patient)
    _clinical(writer, by_type)
    _observations(writer, by_type.get("Observation", []))
    writer.section(
        "Messages with your care team",
        ("When", "From", "Message"),
        (
            (_when(when.isoformat()), who, f"{conversation.subject} ({conversation.care_team}): {what}")
            for conversation in conversations
            for when, who, what in conversation.lines
        ),
        "No messages.",
    )
    writer.section(
        "Documents",
        ("Added", "Title", "File"),
        ((_day(d.created_at.isoformat()), d.title, d.filename) for d in documents),
        "No documents.",
    )
    return bytes(writer.pdf.output())


def _details(writer: _Writer, patient: Resource) -> None:
    telecom = ", ".join(str(t.get("value")) for t in patient.get("telecom", []))
    address = ", ".join(
        " ".join(str(a.get(k)) for k in ("city", "country") if a.get(k)) for a in patient.get("address", [])
    )
    rows = [("Gender", str(patient.get("gender", ""))), ("Contact", telecom), ("Address", address)]
    writer.section("Personal details", ("", ""), [row for row in rows if row[1]], "None recorded.")


def _clinical(writer: _Writer, by_type: dict[str, list[Resource]]) -> None:
    writer.section(
        "Problems and diagnoses",
        ("Condition", "Status", "Since"),
        (
            (_text(c.get("code")), _text(c.get("clinicalStatus")), _day(c.get("onsetDateTime")))
            for c in by_type.get("Condition", [])
        ),
        "None recorded.",
    )
    writer.section(
        "Allergies",
        ("Substance", "Criticality", "Reaction"),
        (
            (
                _text(a.get("code")),
                str(a.get("criticality", "")),
                "; ".join(_text(m) for r in a.get("reaction", []) for m in r.get("manifestation", [])),
            )
            for a in by_type.get("AllergyIntolerance", [])
        ),
        "None recorded.",
    )
    writer.section(
        "Prescriptions",
        ("Medicine", "How to take it", "Status", "Prescribed"),
        (
            (
                _text(m.get("medicationCodeableConcept")),
                "; ".join(
                    " ".join(filter(None, (d.get("text"), d.get("patientInstruction"))))
                    for d in m.get("dosageInstruction", [])
                ),
                str(m.get("status", "")),
                _day(m.get("authoredOn")),
            )
            for m in by_type.get("MedicationRequest", [])
        ),
        "None recorded.",
    )
    writer.section(
        "Visits",
        ("When", "Kind", "Reason", "Status"),
        (
            (
                _when((e.get("period") or {}).get("start")),
                _text(e.get("class")),
                "; ".join(_text(r) for r in e.get("reasonCode", [])),
                str(e.get("status", "")),
            )
            for e in by_type.get("Encounter", [])
        ),
        "None recorded.",
    )
    writer.section(
        "Appointments",
        ("When", "Kind", "Status"),
        (
            (
                _when(a.get("start")),
                "; ".join(_text(s) for s in a.get("serviceType", [])),
                str(a.get("status", "")),
            )
            for a in by_type.get("Appointment", [])
        ),
        "None recorded.",
    )


def _observations(writer: _Writer, observations: list[Resource]) -> None:
    labs = [o for o in observations if "laboratory" in _category(o)]
    writer.section(
        "Test results",
        ("Test", "Result", "Normal range", "Flag", "Taken"),
        (
            (
                _text(o.get("code")),
                _quantity(o.get("valueQuantity")) or str(o.get("valueString") or ""),
                " ".join(r.get("text", "") for r in o.get("referenceRange", [])),
                " ".join(_text(i) for i in o.get("interpretation", [])),
                _when(o.get("effectiveDateTime")),
            )
            for o in labs
        ),
        "No results.",
    )
    # Monitors send many readings: each measure is summed up rather than listed reading by reading.
    series: dict[str, list[Resource]] = defaultdict(list)
    for o in observations:
        if "vital" in _category(o) and (o.get("valueQuantity") or {}).get("value") is not None:
            series[_text(o.get("code"))].append(o)
    rows = []
    for measure, readings in sorted(series.items()):
        readings.sort(key=lambda o: str(o.get("effectiveDateTime")))
        values = [o["valueQuantity"]["value"] for o in readings]
        unit = readings[-1]["valueQuantity"].get("unit", "")
        rows.append(
            (
                measure,
                str(len(readings)),
                f"{_day(readings[0].get('effectiveDateTime'))} to {_day(readings[-1].get('effectiveDateTime'))}",
                f"{min(values):g}-{max(values):g} {unit}",
                f"{_quantity(readings[-1]['valueQuantity'])} ({_when(readings[-1].get('effectiveDateTime'))})",
            )
        )
    writer.section(
        "Vital signs", ("Measure", "Readings", "Period", "Range", "Latest"), rows, "No vital signs recorded."
    )
