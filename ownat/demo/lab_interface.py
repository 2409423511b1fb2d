"""The laboratory's interface in the demo: one pending order is reported as an HL7 v2 batch.

The results arrive as real laboratories send them (a batch header, the specimen before the
results, units with their coding system, comments on the report and on a result) and go through
the same intake as `/api/v1/hl7/oru` and `ownat mllp`, so the inbox, the order's report and its
FHIR DiagnosticReport (comments as presentedForm, OBR-7 and OBR-22 times) show them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from clinical import lab
from clinical.lab import LabOrder, LabResult
from clinical.patients import Patient
from ownat.demo.context import Seeding


def _value(loinc_code: str) -> str:
    test = lab.find_catalogue_test(loinc_code)
    rule = test.ranges[0] if test else None
    if rule is None or rule.low is None or rule.high is None:
        return "1"
    return str(round((rule.low + rule.high) / 2, 1))


async def report_a_pending_order(seeding: Seeding) -> None:
    """Files the results of the oldest order still waiting for them, through HL7 intake."""
    session = seeding.session
    # Another patient's order: the demo patient's own pending order stays pending, to be tried by hand.
    waiting = (
        select(LabOrder)
        .where(
            ~LabOrder.id.in_(select(LabResult.order_id)),
            LabOrder.patient_id != seeding.patient_account.patient_id,
        )
        .order_by(LabOrder.created_at)
    )
    order = await session.scalar(waiting.limit(1))
    if order is None:
        return
    patient = await session.get(Patient, order.patient_id)
    assert patient is not None
    now = seeding.timeline.now
    collected, reported = (
        (now - timedelta(hours=3)).strftime("%Y%m%d%H%M%S+0000"),
        now.strftime("%Y%m%d%H%M%S+0000"),
    )
    segments = [
        "FHS|^~\\&|CITYLAB|CITYLAB|OWNAT|HOSPITAL|" + reported + "||||DEMO-FILE-1",
        "BHS|^~\\&|CITYLAB|CITYLAB|OWNAT|HOSPITAL|" + reported + "||||DEMO-BATCH-1",
        f"MSH|^~\\&|CITYLAB|CITYLAB|OWNAT|HOSPITAL|{reported}||ORU^R01^ORU_R01|DEMO-{order.placer_order_number}|P|2.5.1",
        f"PID|1||{patient.mrn}^^^HOSPITAL^MR||{patient.family_name}^{patient.given_name}",
        f"ORC|RE|{order.placer_order_number}|CL-{order.placer_order_number}",
        # OBR-4 the first test, OBR-7 when collected, OBR-22 when reported.
        f"OBR|1|{order.placer_order_number}|CL-{order.placer_order_number}|"
        f"{order.items[0].loinc_code}^{order.items[0].display}^LN|||{collected}{'|' * 15}{reported}",
        "NTE|1|L|Specimen received at room temperature; results verified by the duty biochemist.",
        f"SPM|1|||119364003^Serum specimen^SCT{'|' * 13}{collected}",
    ]
    for number, item in enumerate(order.items, start=1):
        unit = f"{item.unit}^{item.unit}^UCUM" if item.unit else ""
        segments.append(
            f"OBX|{number}|NM|{item.loinc_code}^{item.display}^LN||{_value(item.loinc_code)}|{unit}||N|||F"
        )
        if number == 1:
            segments.append("NTE|1|L|Consistent with the previous result.")
    segments += ["BTS|1", "FTS|1"]
    await lab.receive_hl7(
        session=session, actor=seeding.admin, raw="\r".join(segments) + "\r", channel=lab.HTTP_CHANNEL
    )
