"""The clinician's journey in headless Chromium: find a patient, review their results, see them from
the day list (check in, start the visit), write and sign a note, record a diagnosis, prescribe
despite a warned allergy only after confirming, order a test and book a follow-up.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters.notes.models import ClinicalNote
from clinical.encounters.prescriptions.models import Prescription
from clinical.lab import manual_results, orders
from clinical.lab.models import LabOrder
from clinical.lab.schemas import LabOrderCreate, ResultEntries, ResultEntry
from clinical.patients import allergies
from clinical.patients import service as patients
from clinical.patients.record_schemas import AllergyCreate
from clinical.patients.schemas import PatientCreate
from clinical.patients.terms import AllergyCriticality
from clinical.scheduling.models import Appointment
from core.audit.models import AuditEvent
from core.identity.models import User
from core.principal import SYSTEM, Role
from core.sessions import transaction
from tests.builders import create_user
from tests.clinical.scheduling_builders import appointment_row, appointment_type, practitioner
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import sign_in

PARIS = ZoneInfo("Europe/Paris")  # the browser's zone (see the `context` fixture)
GLUCOSE = "2345-7"


async def _patient_with_history(
    sessions: async_sessionmaker[AsyncSession], clinician: User
) -> tuple[uuid.UUID, str]:
    """A patient allergic to penicillin, with two glucose results, the second one high; id and name."""
    author = clinician.as_principal()
    async with transaction(sessions) as session:
        data = PatientCreate(
            given_name="Rosa",
            family_name=f"Quill-{secrets.token_hex(3)}",
            birth_date=datetime(1970, 4, 2).date(),
        )
        patient = await patients.create_patient(session=session, actor=SYSTEM, data=data)
        allergy = AllergyCreate(
            substance_text="Penicillin", criticality=AllergyCriticality.HIGH, reaction="Anaphylaxis"
        )
        await allergies.add_allergy(session=session, principal=author, patient_id=patient.id, data=allergy)
        for days_ago, value in ((40, "96"), (5, "180")):
            order = await orders.create_order(
                session=session, actor=author, new=LabOrderCreate(patient_id=patient.id, tests=[GLUCOSE])
            )
            observed = datetime.now(UTC) - timedelta(days=days_ago)
            entries = ResultEntries(
                results=[ResultEntry(loinc_code=GLUCOSE, value=value, observed_at=observed)]
            )
            await manual_results.enter_results(
                session=session, actor=author, order_id=order.id, entries=entries
            )
    return patient.id, patient.display_name


async def test_a_clinician_reviews_sees_signs_prescribes_orders_and_books(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    clinician, password = await create_user(sessions, role=Role.CLINICIAN, full_name="Dr Ada Test")
    doctor = await practitioner(sessions, user_id=clinician.id)
    visit = await appointment_type(sessions, duration_minutes=20)
    patient_id, name = await _patient_with_history(sessions, clinician)
    family = name.removeprefix("Rosa ")
    today = datetime.now(PARIS).date()
    await appointment_row(
        sessions, patient_id=patient_id, practitioner_id=doctor.id, kind=visit,
        start_at=datetime.combine(today, time(0, 5), tzinfo=PARIS),
    )  # fmt: skip

    # Finds the patient and reviews the results: the high glucose flagged, and its trend.
    await sign_in(page, live_server, clinician.email, password)
    await expect(page.locator("#greeting")).to_have_text("Welcome, Dr Ada Test")
    search = page.locator("#patient-search")
    await search.get_by_label("Name").fill(family)
    await search.get_by_role("button", name="Search").click()
    await page.locator("#search-results").get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.locator("#allergy-banner")).to_contain_text(
        "Allergies: Penicillin (high risk: Anaphylaxis)"
    )
    await page.get_by_role("tab", name="Results").click()
    latest = page.locator(".lab-order").first.locator("tr", has_text="Glucose")
    await expect(latest).to_contain_text("180 mg/dL")
    await expect(latest).to_contain_text("▲ High")
    trends = page.get_by_role("region", name="Trends")
    await expect(trends).to_contain_text(re.compile(r"Glucose .*96 \(.*\) → 180 \("))
    await expect(trends.get_by_role("img", name=re.compile("trend: from 96 to 180"))).to_be_visible()

    # The day list: the patient arrives, and the visit starts (its encounter opens).
    await page.get_by_role("link", name="← Staff home").click()
    row = page.locator(".day-row", has_text=name)
    await expect(row).to_contain_text("In person")
    await expect(row.locator(".status")).to_have_text("Booked")
    await row.get_by_role("button", name="Check in").click()
    await expect(page.locator("#day-messages")).to_contain_text(f"{name} has arrived.")
    await expect(row.locator(".status")).to_have_text("Arrived")
    await row.get_by_role("button", name="Start visit").click()
    await expect(page).to_have_url(re.compile(r"/staff/patient/\?id=.*#encounters$"))
    encounter = page.locator("details.encounter[data-status=in_progress]")
    await expect(encounter.locator("> summary")).to_contain_text("In progress")

    # A note, signed only after the confirmation that it will never change.
    await encounter.get_by_role("textbox", name="New note").fill(
        "Fasting glucose 180 mg/dL. Plan: HbA1c, diet advice."
    )
    await encounter.get_by_role("button", name="Save and sign…").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("A signed note can never be changed")
    await confirm.get_by_role("button", name="Sign note").click()
    await expect(encounter.locator(".note-status")).to_have_text(re.compile(r"^Signed by Ada Test-\w+, "))

    # A diagnosis found by words of its description, chosen with the keyboard.
    await encounter.get_by_text("Add a diagnosis").click()
    picker = encounter.get_by_role("combobox", name="Diagnosis (ICD-10)")
    await picker.fill("type 2 diabetes without")
    await expect(encounter.get_by_role("listbox").get_by_role("option").first).to_contain_text("E11.9")
    await picker.press("ArrowDown")
    await picker.press("Enter")
    await encounter.get_by_role("button", name="Add diagnosis").click()
    await expect(encounter.get_by_role("list", name="Diagnoses")).to_contain_text(
        "Type 2 diabetes mellitus without complications"
    )

    # Amoxicillin is a penicillin: the warning names the allergy; going back prescribes nothing.
    form = encounter.get_by_role("form", name="Prescribe")
    await form.get_by_label("Medicine").fill("Amoxicillin 500 mg capsule")
    await form.get_by_label("Dose").fill("500")
    await form.get_by_label("Times").fill("3")
    await form.get_by_label("For (days)").fill("7")
    await form.get_by_role("button", name="Prescribe").click()
    warning = page.get_by_role("dialog")
    await expect(warning).to_contain_text("Allergy warning")
    await expect(warning).to_contain_text("Penicillin: high risk, Anaphylaxis (both are penicillins)")
    await warning.get_by_role("button", name="Go back").click()
    await expect(encounter.get_by_text("Nothing prescribed.")).to_be_visible()
    await form.get_by_role("button", name="Prescribe").click()
    await page.get_by_role("dialog").get_by_role("button", name="Prescribe despite the allergy").click()
    prescribed = encounter.get_by_role("list", name="Prescriptions")
    await expect(prescribed).to_contain_text("Amoxicillin 500 mg capsule")
    await expect(prescribed).to_contain_text("500 mg by mouth, 3 times a day, for 7 days")

    # A test ordered within the visit.
    await page.get_by_role("tab", name="Results").click()
    await page.get_by_text("Order laboratory tests").click()
    order_form = page.locator("#lab-order-form")
    await order_form.get_by_label("Filter tests").fill("potassium")
    await order_form.get_by_label(re.compile("^Potassium")).check()
    await order_form.get_by_label("Priority").select_option("urgent")
    await order_form.get_by_role("button", name="Order tests").click()
    await expect(page.locator("#messages")).to_contain_text(
        re.compile(r"Ordered 1 test \(order \w+, urgent\)")
    )
    await expect(page.locator(".lab-order", has_text="Potassium").first).to_contain_text("awaited")

    # A follow-up booked in a free slot of the clinician's own clinic.
    await page.get_by_role("button", name="Book appointment").click()
    booking = page.locator("#booking-form")
    await expect(booking.get_by_label("Practitioner")).to_have_value(str(doctor.id))
    await booking.get_by_label("Appointment type").select_option(visit.code)
    await booking.get_by_role("button", name="Find free slots").click()
    await page.locator("#slot-results .slots button").first.click()
    await expect(page.locator("#messages")).to_contain_text(f"with Ada {doctor.family_name}")
    await expect(page.locator("#upcoming-appointments li", has_text="Booked")).to_have_count(1)

    async with sessions() as session:
        note = await session.scalar(select(ClinicalNote).where(ClinicalNote.author_id == clinician.id))
        prescription = await session.scalar(select(Prescription).where(Prescription.patient_id == patient_id))
        ordered = await session.scalar(
            select(LabOrder).where(LabOrder.patient_id == patient_id, LabOrder.priority == "urgent")
        )
        booked = await session.scalar(
            select(Appointment).where(
                Appointment.patient_id == patient_id, Appointment.start_at > datetime.now(UTC)
            )
        )
        override = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.patient_id == patient_id,
                AuditEvent.resource_type == "prescription",
                AuditEvent.action == "create",
                AuditEvent.outcome == "success",
            )
        )
    assert note is not None and note.signed_at is not None
    assert prescription is not None and prescription.medication_name == "Amoxicillin 500 mg capsule"
    assert override is not None and len(override.detail["allergies_overridden"]) == 1
    assert ordered is not None and booked is not None and booked.practitioner_id == doctor.id
