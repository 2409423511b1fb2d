"""The demo's secure messages and data request: Pat Jensen asked the telehealth team about her thyroid
tablets and Dr Morgan answered (unread in her portal); a second question waits in the team's triage
inbox; and she asked for a correction of her address, which waits for an administrator."""

from __future__ import annotations

from sqlalchemy import select

from clinical import messaging, privacy
from clinical.documents import FileSystemStorage
from clinical.messaging import ThreadStart
from clinical.organisation import Department
from clinical.privacy import DataRequestCreate, RequestKind
from core.settings import Settings
from ownat.demo.context import Seeding
from ownat.demo.staff_plan import DEMO_CLINICIAN

CARE_TEAM = "GPTH"  # General Practice and Telehealth, Dr Morgan's department


async def seed_conversations(seeding: Seeding, settings: Settings) -> None:
    """Two conversations with the telehealth team and one correction request, for the demo patient."""
    session, patient = seeding.session, seeding.patient_account
    clinician = seeding.clinician(DEMO_CLINICIAN)
    assert patient.patient_id is not None  # the demo patient's account owns their record
    team = await session.scalar(select(Department.id).where(Department.code == CARE_TEAM))
    assert team is not None  # built with the organisation
    storage = FileSystemStorage(settings.data_dir.absolute() / "documents")
    answered = await messaging.start_thread(
        session=session,
        actor=patient,
        storage=storage,
        start=ThreadStart(
            department_id=team,
            subject="Thyroid tablets and a racing heart",
            body=(
                "Since my levothyroxine went up to 75 micrograms I sometimes feel my heart racing in the "
                "evening. Should I take the tablet at another time of day?"
            ),
        ),
        files=[],
        max_bytes=settings.document_max_bytes,
    )
    await messaging.post_message(
        session=session,
        actor=clinician,
        storage=storage,
        thread_id=answered.id,
        body=(
            "Thank you, Pat. Keep taking it in the morning, 30 minutes before breakfast. A racing heart "
            "can mean the dose is a little high: we will recheck your thyroid blood test and talk it "
            "through at your video call. If it lasts more than a few minutes, or you feel faint or "
            "short of breath, call the emergency number."
        ),
        files=[],
        max_bytes=settings.document_max_bytes,
    )
    await messaging.start_thread(
        session=session,
        actor=patient,
        storage=storage,
        start=ThreadStart(
            department_id=team,
            subject="Letter for my employer",
            body="Could I have a letter saying I attended my appointments in October and November?",
        ),
        files=[],
        max_bytes=settings.document_max_bytes,
    )
    await privacy.create_request(
        session=session,
        actor=patient,
        patient_id=patient.patient_id,
        request=DataRequestCreate(
            kind=RequestKind.CORRECTION,
            details="My address still says London; I moved to 12 Harbour Street, Bristol in November.",
        ),
    )
